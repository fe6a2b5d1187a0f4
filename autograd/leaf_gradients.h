#pragma once
/// Internal to the core (backward.cpp): where the gradients that reach leaves go, in order: summed over the
/// pass's uses, through the leaf's gradient hooks, then into .grad (or ag::grad's result), or to the leaf's
/// gradient consumer, and then the post-accumulate-grad hooks.
#include <unordered_map>

#include "autograd/graph.h"
#include "autograd/tensor.h"

namespace ag {

/// Where the leaves' gradients of one pass go: into .grad, or, for ag::grad, into `capture` for the listed
/// leaves only (no .grad touched).
struct LeafSink {
  bool capturing = false;
  bool create_graph = false;  ///< gradients are graph results: summed with recorded ops, never in place
  std::unordered_map<const TensorImpl*, Tensor> capture;
};

/// Adds `g` into `slot`, allocating on first write. Gradients handed between rules are never modified in
/// place (a rule may return its upstream gradient itself), so accumulation makes a new tensor.
void accumulate(Tensor& slot, const Tensor& g);

/// Returns true when the pass must count `leaf`'s uses, to serve its hooks or consumer once all its uses
/// have sent their gradient (with ag::grad, only its gradient hooks are served).
bool counts_uses(const Tensor& leaf, const LeafSink& sink);

/// Adds one use's gradient `g` to what `leaf` has received in this pass.
void leaf_receives(const Tensor& leaf, Tensor g, LeafSink& sink);

/// Counts one use of `leaf` (counted by PassNodes::add_leaf_use) as done; after the last, serves its hooks
/// and consumer.
void leaf_use_done(const Tensor& leaf, LeafSink& sink);

/// Returns true when a rule of this pass has sent `leaf`'s gradient in blocks (gradient_blocks).
bool sent_in_blocks(const Tensor& leaf);

/// Returns `grad` after each of `hooks` (Tensor::register_hook) has seen it and possibly replaced it; `what`
/// names the tensor in errors.
Tensor run_grad_hooks(const std::vector<std::pair<HookId, GradHook>>& hooks, Tensor grad, const std::string& what);

}  // namespace ag
