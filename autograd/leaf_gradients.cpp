#include "autograd/leaf_gradients.h"

#include <fmt/format.h>

#include <cstdint>
#include <mutex>
#include <utility>

#include "autograd/anomaly.h"
#include "autograd/gradient_consumer.h"
#include "autograd/grad_lock.h"
#include "autograd/leaf_hooks.h"
#include "autograd/ops/arithmetic.h"

namespace ag {

void accumulate(Tensor& slot, const Tensor& g) { slot = slot.defined() ? add(slot, g) : g; }

namespace {

/// Adds `g` into a leaf's gradient `slot` (its .grad, or the pass's sum kept before its hooks and consumer);
/// with create_graph, as a recorded sum.
/// The slot owns its storage, so adding in place is safe: the first gradient becomes the slot itself when
/// nothing else refers to it or to its values (a fresh result of a backward rule, the usual case: no copy),
/// and a copy otherwise.
void accumulate_leaf(Tensor& slot, Tensor g, const LeafSink& sink) {
  if (sink.create_graph) return accumulate(slot, g);  // a recorded sum, so that the total keeps its graph
  if (!slot.defined()) {
    const bool exclusive = g.impl().use_count() == 1 && g.impl()->storage.use_count() == 1 && !g.grad_fn();
    slot = exclusive ? std::move(g) : g.clone();
    return;
  }
  dispatch_floating(slot.dtype(), "backward", [&](auto type) {
    using T = decltype(type);
    T* dst = slot.template mutable_data<T>();
    const T* src = g.template data<T>();
    const std::int64_t n = g.numel();
    for (std::int64_t i = 0; i < n; ++i) dst[i] += src[i];
  });
}

/// Returns true when `leaf`'s gradient of this pass is summed apart first: for its gradient hooks, which see
/// the pass's total, or for its consumer when there is no .grad to add to.
bool summed_apart(const TensorImpl& impl, const LeafHooks* hooks, const LeafSink& sink) {
  if (!hooks || hooks->backward_pass == 0) return false;
  return !hooks->grad_hooks.empty() || (!sink.capturing && hooks->consumer && !impl.grad.defined());
}

/// Hands `leaf`'s complete gradient of the pass to its consumer, whole, unless a rule sent it in blocks (its
/// .grad when there was one to add to, then dropped; else the pass's sum).
void feed_consumer(const Tensor& leaf, LeafHooks& hooks) {
  TensorImpl& impl = *leaf.impl();
  Tensor gradient;
  {
    const std::lock_guard lock(grad_lock(&impl));
    gradient = impl.grad.defined() ? std::exchange(impl.grad, Tensor()) : std::exchange(hooks.pending, Tensor());
  }
  if (!gradient.defined()) return;
  hooks.consumer->begin(leaf);
  hooks.consumer->consume(leaf, 0, gradient.numel(), gradient.impl()->storage.get());
}

}  // namespace

bool counts_uses(const Tensor& leaf, const LeafSink& sink) {
  const LeafHooks* hooks = leaf.impl()->hooks.get();
  if (!hooks) return false;
  return sink.capturing ? !hooks->grad_hooks.empty() : hooks->active();
}

void leaf_receives(const Tensor& leaf, Tensor g, LeafSink& sink) {
  TensorImpl& impl = *leaf.impl();
  LeafHooks* hooks = impl.hooks.get();
  // Passes on other threads may accumulate into the same leaf: its .grad is read and written under its lock.
  const std::lock_guard lock(grad_lock(&impl));
  if (summed_apart(impl, hooks, sink)) return accumulate_leaf(hooks->pending, std::move(g), sink);
  if (!sink.capturing) return accumulate_leaf(impl.grad, std::move(g), sink);
  if (auto it = sink.capture.find(&impl); it != sink.capture.end()) accumulate(it->second, g);
}

void leaf_use_done(const Tensor& leaf, LeafSink& sink) {
  TensorImpl& impl = *leaf.impl();
  LeafHooks& hooks = *impl.hooks;
  if (hooks.backward_pass == 0 || --hooks.uses_left > 0) return;
  if (!hooks.grad_hooks.empty()) {
    Tensor pass;
    {
      const std::lock_guard lock(grad_lock(&impl));
      pass = std::exchange(hooks.pending, Tensor());
    }
    if (pass.defined()) {
      pass = run_grad_hooks(hooks.grad_hooks, std::move(pass), "a leaf");
      if (sink.capturing) {
        if (auto it = sink.capture.find(&impl); it != sink.capture.end()) accumulate(it->second, pass);
        return;
      }
      const std::lock_guard lock(grad_lock(&impl));
      accumulate_leaf(hooks.consumer && !impl.grad.defined() ? hooks.pending : impl.grad, std::move(pass), sink);
    }
  }
  if (sink.capturing) return;
  if (hooks.consumer && !hooks.sent_in_blocks) feed_consumer(leaf, hooks);
  if (!leaf.grad().defined()) return;
  Tensor handle = leaf;
  const auto to_run = hooks.post_accumulate;  // a copy: a hook may remove hooks
  for (const auto& [id, hook] : to_run) hook(handle);
}

bool sent_in_blocks(const Tensor& leaf) {
  const LeafHooks* hooks = leaf.impl()->hooks.get();
  return hooks && hooks->sent_in_blocks;
}

Tensor run_grad_hooks(const std::vector<std::pair<HookId, GradHook>>& hooks, Tensor grad, const std::string& what) {
  const auto to_run = hooks;  // a copy: a hook may remove hooks
  for (const auto& [id, hook] : to_run) {
    Tensor replaced = hook(grad);
    if (!replaced.defined()) continue;
    if (replaced.shape() != grad.shape() || replaced.dtype() != grad.dtype())
      fail("backward", "a gradient hook on {} returned a gradient of shape {} {} for one of shape {} {}", what,
           shape_str(replaced.shape()), dtype_name(replaced.dtype()), shape_str(grad.shape()),
           dtype_name(grad.dtype()));
    grad = std::move(replaced);
  }
  return grad;
}

GradientBlocks gradient_blocks(const Tensor& input) {
  LeafHooks* hooks = input.defined() ? input.impl()->hooks.get() : nullptr;
  // A pass counts a leaf's uses only when it fills .grad (not for ag::grad): backward_pass is 0 otherwise. The
  // gradient goes in blocks only when nothing else must see it whole first.
  if (!hooks || !hooks->consumer || hooks->backward_pass == 0 || hooks->uses != 1 || !hooks->grad_hooks.empty() ||
      input.grad().defined() || anomaly_mode_enabled())
    return {};
  hooks->consumer->begin(input);
  hooks->sent_in_blocks = true;
  return {hooks->consumer.get(), input};
}

}  // namespace ag
