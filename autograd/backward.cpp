#include "autograd/backward.h"

#include <atomic>
#include <utility>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/grad_lock.h"
#include "autograd/graph.h"
#include "autograd/leaf_hooks.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/profile.h"

namespace ag {

namespace {

/// Where the gradients that reach leaves (and, for ag::grad, chosen intermediates) go.
struct GradientSink {
  // When `capture` is empty: leaves accumulate into their .grad. Otherwise only the listed tensors'
  // gradients are kept, here, and no .grad is touched.
  std::unordered_map<const TensorImpl*, Tensor> capture;
  std::unordered_map<const Node*, const TensorImpl*> captured_nodes;
  bool capturing = false;
};

/// Adds `g` into `slot`, allocating on first write. Gradients handed between rules are never modified in
/// place (a rule may return its upstream gradient itself), so accumulation makes a new tensor.
void accumulate(Tensor& slot, const Tensor& g) { slot = slot.defined() ? add(slot, g) : g; }

/// Adds `g` into a leaf's gradient `slot` (its .grad, or the sum kept for its consumer). The slot owns its
/// storage, so adding in place is safe: the first gradient becomes the slot itself when nothing else refers to
/// it or to its values (a fresh result of a backward rule, the usual case: no copy), and a copy otherwise.
void accumulate_leaf(Tensor& slot, Tensor g) {
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

void check_gradient(const Node& node, std::size_t slot, const Tensor& input, const Tensor& g) {
  if (g.shape() != input.shape() || g.dtype() != input.dtype())
    fail(node.name, "backward returned a gradient of shape {} {} for input {} of shape {} {}", shape_str(g.shape()),
         dtype_name(g.dtype()), slot, shape_str(input.shape()), dtype_name(input.dtype()));
  if (anomaly_mode_enabled()) check_finite(node.name, fmt::format("backward (gradient for input {})", slot), g);
}

/// The nodes one backward pass reaches, each held alive (releasing a node drops its inputs, and with them its
/// producers' last owners), and the leaves with hooks or a gradient consumer it reaches; when the pass ends or
/// throws, all of them are reset to no pass.
class PassNodes {
 public:
  PassNodes() : id_(next_id_.fetch_add(1, std::memory_order_relaxed)) { nodes_.reserve(64); }
  ~PassNodes() {
    for (const auto& node : nodes_) {
      node->backward_pass = 0;
      node->consumers_left = 0;
      node->gradient_sum = Tensor();
    }
    for (const auto& leaf : hooked_leaves_) leaf.impl()->hooks->end_pass();
  }
  PassNodes(const PassNodes&) = delete;
  PassNodes& operator=(const PassNodes&) = delete;

  /// Adds `node` to the pass; returns false when it was already in it.
  bool add(const std::shared_ptr<Node>& node) {
    if (node->backward_pass == id_) return false;
    if (node->released)
      fail(node->name, "backward through a graph that was already released; call the first backward with "
                       "retain_graph = true to go through it twice");
    // The counts live in the nodes, so two passes cannot share one: say so rather than mix their counts.
    if (node->backward_pass != 0)
      fail(node->name, "backward reached a node that another backward pass is going through (a backward "
                       "inside a backward rule, or on two threads at once through one graph)");
    node->backward_pass = id_;
    nodes_.push_back(node);
    return true;
  }

  /// Counts one more use of `leaf`, which has hooks or a consumer, in the pass's graph.
  void add_hooked_leaf_use(const Tensor& leaf) {
    LeafHooks& hooks = *leaf.impl()->hooks;
    if (hooks.backward_pass != id_) {
      if (hooks.backward_pass != 0)
        throw Error("backward: a leaf with hooks is in another backward pass (a backward inside a backward rule, "
                    "or on two threads at once)");
      hooks.end_pass();
      hooks.backward_pass = id_;
      hooked_leaves_.push_back(leaf);
    }
    hooks.uses += 1;
    hooks.uses_left += 1;
  }

 private:
  static inline std::atomic<std::uint64_t> next_id_{1};
  std::uint64_t id_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::vector<Tensor> hooked_leaves_;
};

/// Returns true when `leaf` has post-accumulate-grad hooks or a gradient consumer for the pass to serve.
bool has_hooks(const Tensor& leaf) {
  const LeafHooks* hooks = leaf.impl()->hooks.get();
  return hooks && hooks->active();
}

/// Hands `leaf`'s complete gradient of the pass to its consumer, whole, unless a rule sent it in blocks (its
/// .grad when there was one to add to, then dropped; else the sum kept for the consumer). Then runs the
/// post-accumulate-grad hooks when a gradient is in .grad; from a copy of the list, since a hook may remove
/// hooks.
void serve_leaf(const Tensor& leaf) {
  LeafHooks& hooks = *leaf.impl()->hooks;
  if (hooks.consumer && !hooks.sent_in_blocks) {
    TensorImpl& impl = *leaf.impl();
    Tensor gradient;
    {
      const std::lock_guard lock(grad_lock(&impl));
      gradient = impl.grad.defined() ? std::exchange(impl.grad, Tensor()) : std::exchange(hooks.pending, Tensor());
    }
    if (gradient.defined()) {
      hooks.consumer->begin(leaf);
      hooks.consumer->consume(leaf, 0, gradient.numel(), gradient.impl()->storage.get());
    }
  }
  if (!leaf.grad().defined()) return;
  Tensor handle = leaf;
  const auto to_run = hooks.post_accumulate;
  for (const auto& [id, hook] : to_run) hook(handle);
}

/// Returns true when a rule of this pass has sent `leaf`'s gradient in blocks.
bool sent_in_blocks(const Tensor& leaf) {
  const LeafHooks* hooks = leaf.impl()->hooks.get();
  return hooks && hooks->sent_in_blocks;
}

/// Counts one use of `leaf` (counted by PassNodes::add_hooked_leaf_use) as done; after the last, serves it.
/// Hooks and consumers set during the pass, on a leaf not counted, wait for the next pass.
void use_done(const Tensor& leaf) {
  LeafHooks& hooks = *leaf.impl()->hooks;
  if (hooks.backward_pass == 0 || --hooks.uses_left > 0) return;
  serve_leaf(leaf);
}

/// Adds `g` to what `leaf` has received in this pass: its .grad, or, for a leaf whose consumer takes the
/// gradient and that has no .grad to add to, the sum kept for the consumer.
void leaf_accumulates(const Tensor& leaf, Tensor g) {
  TensorImpl& impl = *leaf.impl();
  LeafHooks* hooks = impl.hooks.get();
  // Passes on other threads may accumulate into the same leaf: its .grad is read and written under its lock.
  const std::lock_guard lock(grad_lock(&impl));
  const bool for_consumer = hooks && hooks->consumer && hooks->backward_pass != 0 && !impl.grad.defined();
  accumulate_leaf(for_consumer ? hooks->pending : impl.grad, std::move(g));
}

Tensor seed_gradient(const Tensor& root, const Tensor& grad) {
  if (!root.requires_grad())
    throw Error("backward: the tensor does not require a gradient (no input of the ops that made it requires one)");
  if (grad.defined()) {
    if (grad.shape() != root.shape() || grad.dtype() != root.dtype())
      fail("backward", "upstream gradient of shape {} {} for a result of shape {} {}", shape_str(grad.shape()),
           dtype_name(grad.dtype()), shape_str(root.shape()), dtype_name(root.dtype()));
    return grad;
  }
  if (root.numel() != 1)
    fail("backward", "a gradient can be implied only for a one-element result; got shape {}: pass the upstream gradient",
         shape_str(root.shape()));
  return ones_like(root);
}

void execute(const Tensor& root, const Tensor& seed, bool retain_graph, GradientSink& sink) {
  const auto leaf_receives = [&](const Tensor& leaf, Tensor g) {
    if (!sink.capturing) leaf_accumulates(leaf, std::move(g));
    else if (auto it = sink.capture.find(leaf.impl().get()); it != sink.capture.end()) accumulate(it->second, g);
  };
  if (!root.grad_fn()) {
    const NoGradGuard no_grad;  // as for the leaves of a graph
    leaf_receives(root, seed);
    if (!sink.capturing && has_hooks(root)) serve_leaf(root);
    return;
  }

  // Pass 1: count, for every node reachable from the root, its consumers within this graph.
  PassNodes reached;
  reached.add(root.grad_fn());
  std::vector<Node*> stack{root.grad_fn().get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const auto& input : node->inputs) {
      if (!input.defined() || !input.requires_grad()) continue;
      if (!input.grad_fn()) {
        // Hooks are for gradients that go into .grad; ag::grad captures them instead.
        if (!sink.capturing && has_hooks(input)) reached.add_hooked_leaf_use(input);
        continue;
      }
      const std::shared_ptr<Node>& producer = input.grad_fn();
      producer->consumers_left += 1;
      if (reached.add(producer)) stack.push_back(producer.get());
    }
  }

  // Pass 2: run each node's rule once all its consumers have added their gradient (Kahn's order).
  NoGradGuard no_grad;  // rules compute with ops, which must not record
  root.grad_fn()->gradient_sum = seed;
  std::vector<Node*> ready{root.grad_fn().get()};
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    Tensor grad_output = std::move(node->gradient_sum);
    if (auto c = sink.captured_nodes.find(node); c != sink.captured_nodes.end())
      accumulate(sink.capture[c->second], grad_output);

    std::vector<Tensor> input_grads;
    if (grad_output.defined()) {  // undefined: no gradient reached this node, so none leaves it
      if (!node->backward) fail(node->name, "backward not implemented");
      node->check_versions();
      const ProfileScope timed([&] { return "backward " + node->name + " " + shape_str(grad_output.shape()); });
      input_grads = node->backward(grad_output, node->inputs);
      if (input_grads.size() != node->inputs.size())
        fail(node->name, "backward returned {} gradients for {} inputs", input_grads.size(), node->inputs.size());
    }
    for (std::size_t i = 0; i < node->inputs.size(); ++i) {
      const Tensor& input = node->inputs[i];
      if (!input.defined() || !input.requires_grad()) continue;
      const bool has_grad = i < input_grads.size() && input_grads[i].defined();
      if (has_grad) check_gradient(*node, i, input, input_grads[i]);
      Node* producer = input.grad_fn().get();
      if (!producer) {
        if (has_grad && sent_in_blocks(input))
          fail(node->name, "backward sent the gradient of input {} in blocks and returned it too", i);
        if (has_grad) leaf_receives(input, std::move(input_grads[i]));
        if (!sink.capturing && has_hooks(input)) use_done(input);
        continue;
      }
      if (has_grad) accumulate(producer->gradient_sum, input_grads[i]);
      if (--producer->consumers_left == 0) ready.push_back(producer);
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace

GradientBlocks gradient_blocks(const Tensor& input) {
  LeafHooks* hooks = input.defined() ? input.impl()->hooks.get() : nullptr;
  // A pass counts a leaf's uses only when it fills .grad (not for ag::grad): backward_pass is 0 otherwise.
  if (!hooks || !hooks->consumer || hooks->backward_pass == 0 || hooks->uses != 1 || input.grad().defined() ||
      anomaly_mode_enabled())
    return {};
  hooks->consumer->begin(input);
  hooks->sent_in_blocks = true;
  return {hooks->consumer.get(), input};
}

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  GradientSink sink;
  execute(root, seed_gradient(root, grad), retain_graph, sink);
}

std::vector<Tensor> grad(const Tensor& root, const std::vector<Tensor>& inputs, const Tensor& grad_output,
                         bool retain_graph) {
  GradientSink sink;
  sink.capturing = true;
  for (const auto& input : inputs) {
    if (!input.requires_grad()) throw Error("grad: an input does not require a gradient");
    sink.capture[input.impl().get()] = Tensor();
    if (input.grad_fn()) sink.captured_nodes[input.grad_fn().get()] = input.impl().get();
  }
  execute(root, seed_gradient(root, grad_output), retain_graph, sink);
  std::vector<Tensor> out;
  for (const auto& input : inputs) out.push_back(sink.capture[input.impl().get()]);
  return out;
}

}  // namespace ag
