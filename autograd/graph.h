#pragma once
/// The dynamic graph: one Node per recorded op, linking its result to its inputs and its backward rule.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace ag {

/// A backward rule: given the upstream gradient dL/dy (shape of the op's result) and the op's inputs,
/// returns one gradient dL/dx_i per input, each of that input's shape, or an undefined Tensor for
/// "no gradient" (always allowed; skip the work for inputs where !inputs[i].requires_grad()).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output, const std::vector<Tensor>& inputs)>;

/// What an op's curvature rule reads (autograd/curvature.h, docs/curvature.md): dL/dy and the diagonal of
/// d2L/dy2 that reached the op's result (both of its shape), the op's inputs and saved tensors (Node::saved:
/// those it kept besides its inputs, such as its output) and its plain backward rule, which a rule may call
/// on the curvature where the op's Jacobian entries are 0 or 1 (the curvature is then routed like a gradient).
struct CurvatureInput {
  const Tensor& gradient;             ///< dL/dy, shape of the result.
  const Tensor& curvature;            ///< diag d2L/dy2 (Gauss-Newton), shape of the result.
  const std::vector<Tensor>& inputs;  ///< The op's inputs, as for its backward rule.
  const std::vector<Tensor>& saved;   ///< Node::saved.
  const BackwardFn& backward;         ///< The op's plain backward rule.
};

/// A curvature rule: returns, for each input, the diagonal of the Gauss-Newton d2L/dx2 (that input's shape),
/// or an undefined Tensor for none: sum_i J_ij^2 D_i for y = f(x) with Jacobian J, plus, for a loss only, the
/// loss's own second derivative times dL/dy. Stateless lambdas cost no allocation per recorded op.
using CurvatureFn = std::function<std::vector<Tensor>(const CurvatureInput& at)>;

/// An op's backward rules. `fast` computes the gradients with any code (kernels, loops) and serves every plain
/// pass. `recorded` computes the same with recorded ops (ag::mul, ag::conv2d, ...), so that a pass with
/// create_graph can differentiate the gradients again; a rule written with ops only can be given as
/// `recorded` alone and serves both. An op without `recorded` works in plain passes, and a create_graph pass
/// refuses it by name. `curvature`, optional, is the op's diagonal Gauss-Newton rule (autograd/curvature.h): run
/// only by ag::backward_curvature, never by backward; the curvature pass refuses an op without one by name.
struct Rules {
  BackwardFn fast;
  BackwardFn recorded;
  CurvatureFn curvature = nullptr;
};

/// One recorded op. Owned by its result tensor (grad_fn); owns its inputs until backward releases it.
struct Node {
  std::string name;           ///< The op's name, used in every error message about it.
  std::vector<Tensor> inputs; ///< The op's tensor inputs, in the order its backward rule expects.
  BackwardFn backward;        ///< The plain pass's rule (Rules::fast, else recorded); null for an op without one.
  BackwardFn recorded;        ///< The rule written with recorded ops, for create_graph; null when there is none.
  CurvatureFn curvature;      ///< The diagonal Gauss-Newton rule (Rules::curvature); null when there is none.
  std::vector<Tensor> saved;  ///< Tensors besides its inputs whose values the rule reads (the op's output).
  std::uint64_t read_inputs = ~std::uint64_t{0};  ///< Bit i set when the rule reads input i's values.
  /// The versions of the inputs, then of the saved tensors, when the op was recorded: backward refuses to run
  /// the rule on values it reads that were written in place since. The first few are kept in place (an
  /// allocation per node is measurable in a batch-1 step), the rest beyond; version_when_recorded(k) reads both.
  std::array<std::uint64_t, 6> versions_in_place{};
  std::vector<std::uint64_t> versions_beyond;
  /// Hooks on the op's output (Tensor::register_hook), run on its gradient before the rule.
  std::vector<std::pair<HookId, GradHook>> output_hooks;
  bool released = false;      ///< Set once backward has freed this node (retain_graph = false).

  // The state of a backward pass going through this node, used by backward.cpp alone and reset when the pass
  // ends (also when it throws). It lives here rather than in a map keyed by node: at batch 1 a training step's
  // backward is some 25 nodes of a few microseconds each, and a map's insertion, lookup and allocation per
  // node were a measurable part of them.
  std::uint64_t backward_pass = 0;  ///< The pass under way that reached this node; 0 for none.
  int consumers_left = 0;        ///< Consumers in that pass's graph that have not yet sent their gradient.
  Tensor gradient_sum;           ///< dL/d(this node's result), summed over those consumers so far.

  Node(std::string op_name, std::vector<Tensor> op_inputs, Rules rules, std::vector<Tensor> saved_tensors = {},
       std::uint64_t inputs_read = ~std::uint64_t{0});
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  /// Destroys long chains of nodes iteratively, so a 100,000-op graph cannot overflow the stack.
  ~Node();
  /// Frees the inputs and the rule (and what it captured), keeping the name for error messages.
  void release();
  /// Throws naming the op, the tensor and both versions when a tensor the rule reads has been written in place
  /// since the op was recorded: the saved ones, and with `every_input` (a create_graph pass, whose recorded
  /// rule recomputes from the inputs) every input.
  void check_versions(bool every_input = false) const;
  /// Returns the version that input k (or, for k >= inputs.size(), saved tensor k - inputs.size()) had when the op
  /// was recorded.
  std::uint64_t version_when_recorded(std::size_t k) const;
};

/// Returns true while ops record themselves (the default; false inside a NoGradGuard, true again inside an
/// EnableGradGuard). The mode is per thread.
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

/// While alive, ops record themselves again, also inside a NoGradGuard (PyTorch's torch.enable_grad), e.g. to
/// build a graph of one step within code that runs without one. Restores the previous mode on exit.
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

/// Makes `output` the result of op `name` on `inputs`: when grad mode is on and an input requires a
/// gradient, `output` gets a Node holding the inputs and `backward`; otherwise it is returned as it is.
/// This is the one call an op makes to join the graph. Pass a null `backward` for an op without a rule.
/// The rule may read every input's values: backward refuses to run it once one has been written in place
/// since (Tensor::version).
Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, BackwardFn backward);

/// As record, for a rule that reads the values of exactly the tensors in `saved`: some of its inputs, and
/// tensors it captured, such as the op's own output (`output.detach()`). An input left out may be written in
/// place after the op without harm (add reads no values: saved is empty).
Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, BackwardFn backward,
              std::vector<Tensor> saved);

/// As record, with both rules (Rules: a fast one and one written with recorded ops, for create_graph), the
/// rules reading the values of exactly the tensors in `saved`.
Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, Rules rules, std::vector<Tensor> saved);

/// As record with both rules, the rules reading the values of all the inputs.
Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, Rules rules);

/// The Rules of an op whose one rule is written with recorded ops alone: it serves plain passes (where
/// nothing records) and create_graph passes (where its ops record, so the gradient can be differentiated).
inline Rules composed(BackwardFn rule) { return Rules{nullptr, std::move(rule)}; }

/// `rules` with the curvature rule `curvature` (see Rules::curvature).
inline Rules with_curvature(Rules rules, CurvatureFn curvature) {
  rules.curvature = std::move(curvature);
  return rules;
}

/// Returns true when grad mode is on and some tensor in `inputs` requires a gradient.
bool any_requires_grad(const std::vector<Tensor>& inputs);

/// Returns true when an op on `inputs` (tensors, any of them undefined) joins the graph: grad mode is on and one
/// of them requires a gradient. record() decides the same; an op whose rules cost allocations to build (captures
/// too large for std::function's inline buffer) tests it first and, when false, returns through unrecorded().
template <class... Inputs>
bool records(const Inputs&... inputs) {
  return grad_mode_enabled() && ((inputs.defined() && inputs.requires_grad()) || ...);
}

/// Returns `output`, the result of an op that joins no graph (records() was false), checked as record() checks
/// it in anomaly mode, under the name `op`, or "op+suffix" for an op with a fused activation.
Tensor unrecorded(Tensor output, std::string_view op, std::string_view suffix = {});

}  // namespace ag
