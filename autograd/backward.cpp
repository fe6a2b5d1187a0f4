#include "autograd/backward.h"

#include <fmt/format.h>

#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/curvature_pass.h"
#include "autograd/graph.h"
#include "autograd/leaf_gradients.h"
#include "autograd/pass_state.h"
#include "autograd/profile.h"

namespace ag {

namespace {

/// Where the gradients that reach leaves and, for ag::grad, chosen intermediates go.
struct GradientSink {
  LeafSink leaves;
  std::unordered_map<const Node*, const TensorImpl*> captured_nodes;  // ag::grad's intermediates, by producer
  CurvatureSink* curvature = nullptr;  // set in a curvature pass: each node's curvature rule runs too
};

void check_gradient(const Node& node, std::size_t slot, const Tensor& input, const Tensor& g) {
  if (g.shape() != input.shape() || g.dtype() != input.dtype())
    fail(node.name, "backward returned a gradient of shape {} {} for input {} of shape {} {}", shape_str(g.shape()),
         dtype_name(g.dtype()), slot, shape_str(input.shape()), dtype_name(input.dtype()));
  if (anomaly_mode_enabled()) check_finite(node.name, fmt::format("backward (gradient for input {})", slot), g);
}

Tensor seed_gradient(const Tensor& root, const Tensor& grad) {
  if (!root.requires_grad())
    throw Error("backward: the tensor does not require a gradient (no input of the ops that made it requires one; "
                "a gradient can be differentiated again only when computed with create_graph = true)");
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

/// Pass 1: counts, for every node reachable from the root, its consumers within this graph, and the uses of
/// the leaves whose hooks or consumer the pass serves.
void count_uses(const Tensor& root, PassNodes& reached, const GradientSink& sink) {
  reached.add(root.grad_fn());
  std::vector<Node*> stack{root.grad_fn().get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const auto& input : node->inputs) {
      if (!input.defined() || !input.requires_grad()) continue;
      if (!input.grad_fn()) {
        if (counts_uses(input, sink.leaves)) reached.add_leaf_use(input);
        continue;
      }
      const std::shared_ptr<Node>& producer = input.grad_fn();
      producer->consumers_left += 1;
      if (reached.add(producer)) stack.push_back(producer.get());
    }
  }
}

/// Returns the gradients `node`'s rule gives for its inputs from dL/d(its output); with `create_graph`, from
/// its recorded rule (refusing an op that has none).
std::vector<Tensor> run_rule(Node& node, const Tensor& grad_output, bool create_graph) {
  if (!node.backward) fail(node.name, "backward not implemented");
  if (create_graph && !node.recorded)
    fail(node.name, "its backward rule is not differentiable yet (no recorded rule), so a pass with create_graph "
                    "cannot go through it (docs/extending.md: making a rule differentiable)");
  node.check_versions(create_graph);  // a recorded rule recomputes from every input
  const ProfileScope timed([&] { return "backward " + node.name + " " + shape_str(grad_output.shape()); });
  std::vector<Tensor> input_grads = (create_graph ? node.recorded : node.backward)(grad_output, node.inputs);
  if (input_grads.size() != node.inputs.size())
    fail(node.name, "backward returned {} gradients for {} inputs", input_grads.size(), node.inputs.size());
  return input_grads;
}

/// Sends the gradients of `node`'s inputs on: into their producers' sums (queuing a producer once all its
/// consumers have sent theirs), or to the leaves.
void send_gradients(Node& node, std::vector<Tensor>& input_grads, GradientSink& sink, std::vector<Node*>& ready) {
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const Tensor& input = node.inputs[i];
    if (!input.defined() || !input.requires_grad()) continue;
    const bool has_grad = i < input_grads.size() && input_grads[i].defined();
    if (has_grad) check_gradient(node, i, input, input_grads[i]);
    Node* producer = input.grad_fn().get();
    if (!producer) {
      if (has_grad && sent_in_blocks(input))
        fail(node.name, "backward sent the gradient of input {} in blocks and returned it too", i);
      if (has_grad) leaf_receives(input, std::move(input_grads[i]), sink.leaves);
      if (counts_uses(input, sink.leaves)) leaf_use_done(input, sink.leaves);
      continue;
    }
    if (has_grad) accumulate(producer->gradient_sum, input_grads[i]);
    if (--producer->consumers_left == 0) ready.push_back(producer);
  }
}

/// The grad mode of a pass's rules: off (they compute with ops, which must not record), or on for create_graph.
struct RuleMode {
  explicit RuleMode(bool record) {
    if (record) enable.emplace();
    else disable.emplace();
  }
  std::optional<EnableGradGuard> enable;
  std::optional<NoGradGuard> disable;
};

void execute(const Tensor& root, const Tensor& seed, bool retain_graph, GradientSink& sink) {
  PassNodes reached;
  const RuleMode mode(sink.leaves.create_graph);
  if (!root.grad_fn()) {
    const bool counted = counts_uses(root, sink.leaves);
    if (counted) reached.add_leaf_use(root);
    leaf_receives(root, seed, sink.leaves);
    if (counted) leaf_use_done(root, sink.leaves);
    return;
  }
  count_uses(root, reached, sink);
  // Pass 2: run each node's rule once all its consumers have added their gradient (Kahn's order).
  root.grad_fn()->gradient_sum = seed;
  std::vector<Node*> ready{root.grad_fn().get()};
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    Tensor grad_output = std::move(node->gradient_sum);
    if (grad_output.defined() && !node->output_hooks.empty())
      grad_output = run_grad_hooks(node->output_hooks, std::move(grad_output), "the output of " + node->name);
    if (auto c = sink.captured_nodes.find(node); c != sink.captured_nodes.end())
      accumulate(sink.leaves.capture[c->second], grad_output);
    if (sink.curvature && grad_output.defined()) propagate_curvature(*node, grad_output, *sink.curvature);
    // Undefined: no gradient reached this node, so none leaves it.
    std::vector<Tensor> input_grads =
        grad_output.defined() ? run_rule(*node, grad_output, sink.leaves.create_graph) : std::vector<Tensor>();
    send_gradients(*node, input_grads, sink, ready);
    if (!retain_graph && !sink.leaves.create_graph) node->release();
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph, bool create_graph) {
  GradientSink sink;
  sink.leaves.create_graph = create_graph;
  execute(root, seed_gradient(root, grad), retain_graph, sink);
}

namespace {

/// ag::grad's work; with `curvature`, a curvature pass too (autograd/curvature_pass.h).
std::vector<Tensor> capture_gradients(const Tensor& root, const std::vector<Tensor>& inputs, const Tensor& grad_output,
                                      bool retain_graph, bool create_graph, CurvatureSink* curvature) {
  GradientSink sink;
  sink.curvature = curvature;
  sink.leaves.capturing = true;
  sink.leaves.create_graph = create_graph;
  for (const auto& input : inputs) {
    if (!input.requires_grad()) throw Error("grad: an input does not require a gradient");
    sink.leaves.capture[input.impl().get()] = Tensor();
    if (input.grad_fn()) sink.captured_nodes[input.grad_fn().get()] = input.impl().get();
  }
  execute(root, seed_gradient(root, grad_output), retain_graph, sink);
  std::vector<Tensor> out;
  for (const auto& input : inputs) out.push_back(sink.leaves.capture[input.impl().get()]);
  return out;
}

}  // namespace

std::vector<Tensor> grad(const Tensor& root, const std::vector<Tensor>& inputs, const Tensor& grad_output,
                         bool retain_graph, bool create_graph) {
  return capture_gradients(root, inputs, grad_output, retain_graph, create_graph, nullptr);
}

std::vector<Tensor> gradients_with_curvature(const Tensor& root, const std::vector<Tensor>& inputs, bool retain_graph,
                                             CurvatureSink& sink) {
  return capture_gradients(root, inputs, Tensor(), retain_graph, false, &sink);
}

}  // namespace ag
