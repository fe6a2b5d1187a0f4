#pragma once
/// The dynamic graph: one Node per recorded op, linking its result to its inputs and its backward rule.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace ag {

/// A backward rule: given the upstream gradient dL/dy (shape of the op's result) and the op's inputs,
/// returns one gradient dL/dx_i per input, each of that input's shape, or an undefined Tensor for
/// "no gradient" (always allowed; skip the work for inputs where !inputs[i].requires_grad()).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output, const std::vector<Tensor>& inputs)>;

/// One recorded op. Owned by its result tensor (grad_fn); owns its inputs until backward releases it.
struct Node {
  std::string name;           ///< The op's name, used in every error message about it.
  std::vector<Tensor> inputs; ///< The op's tensor inputs, in the order its backward rule expects.
  BackwardFn backward;        ///< Null for an op without a backward rule.
  bool released = false;      ///< Set once backward has freed this node (retain_graph = false).

  // The state of a backward pass going through this node, used by backward.cpp alone and reset when the pass
  // ends (also when it throws). It lives here rather than in a map keyed by node: at batch 1 a training step's
  // backward is some 25 nodes of a few microseconds each, and a map's insertion, lookup and allocation per
  // node were a measurable part of them.
  std::uint64_t backward_pass = 0;  ///< The pass under way that reached this node; 0 for none.
  int consumers_left = 0;        ///< Consumers in that pass's graph that have not yet sent their gradient.
  Tensor gradient_sum;           ///< dL/d(this node's result), summed over those consumers so far.

  Node(std::string op_name, std::vector<Tensor> op_inputs, BackwardFn rule)
      : name(std::move(op_name)), inputs(std::move(op_inputs)), backward(std::move(rule)) {}
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  /// Destroys long chains of nodes iteratively, so a 100,000-op graph cannot overflow the stack.
  ~Node();
  /// Frees the inputs and the rule (and what it captured), keeping the name for error messages.
  void release();
};

/// Returns true while ops record themselves (the default; false inside a NoGradGuard).
bool grad_mode_enabled();

/// While alive, ops record nothing: their results never require a gradient. Restores the mode on exit.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// Makes `output` the result of op `name` on `inputs`: when grad mode is on and an input requires a
/// gradient, `output` gets a Node holding the inputs and `backward`; otherwise it is returned as it is.
/// This is the one call an op makes to join the graph. Pass a null `backward` for an op without a rule.
Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, BackwardFn backward);

/// Returns true when grad mode is on and some tensor in `inputs` requires a gradient.
bool any_requires_grad(const std::vector<Tensor>& inputs);

}  // namespace ag
