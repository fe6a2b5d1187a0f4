#include "autograd/curvature.h"

#include <fmt/format.h>

#include <utility>

#include "autograd/anomaly.h"
#include "autograd/curvature_pass.h"
#include "autograd/leaf_gradients.h"

namespace ag {

namespace {

std::vector<Tensor> run_curvature_rule(Node& node, const Tensor& grad_output, CurvatureSink& sink) {
  if (!node.curvature)
    fail(node.name, "has no curvature rule, so backward_curvature cannot go through it (docs/curvature.md: giving "
                    "an op a curvature rule)");
  node.check_versions(true);  // before the rule reads its inputs and saved tensors
  Tensor curvature;
  if (auto sum = sink.nodes.find(&node); sum != sink.nodes.end()) {
    curvature = std::move(sum->second);
    sink.nodes.erase(sum);
  }
  if (!curvature.defined()) curvature = zeros_like(grad_output);
  std::vector<Tensor> diagonals =
      node.curvature(CurvatureInput{grad_output, curvature, node.inputs, node.saved, node.backward});
  if (diagonals.size() != node.inputs.size())
    fail(node.name, "its curvature rule returned {} diagonals for {} inputs", diagonals.size(), node.inputs.size());
  return diagonals;
}

}  // namespace

void propagate_curvature(Node& node, const Tensor& grad_output, CurvatureSink& sink) {
  std::vector<Tensor> diagonals = run_curvature_rule(node, grad_output, sink);
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const Tensor& input = node.inputs[i];
    if (!input.defined() || !input.requires_grad() || !diagonals[i].defined()) continue;
    if (diagonals[i].shape() != input.shape() || diagonals[i].dtype() != input.dtype())
      fail(node.name, "its curvature rule returned a diagonal of shape {} {} for input {} of shape {} {}",
           shape_str(diagonals[i].shape()), dtype_name(diagonals[i].dtype()), i, shape_str(input.shape()),
           dtype_name(input.dtype()));
    if (anomaly_mode_enabled())
      check_finite(node.name, fmt::format("curvature (diagonal for input {})", i), diagonals[i]);
    if (Node* producer = input.grad_fn().get()) {
      accumulate(sink.nodes[producer], diagonals[i]);
    } else if (auto slot = sink.leaves.find(input.impl().get()); slot != sink.leaves.end()) {
      accumulate(slot->second, diagonals[i]);
    }
  }
}

CurvatureResult backward_curvature(const Tensor& loss, const std::vector<Tensor>& parameters, bool retain_graph) {
  if (!loss.defined() || loss.numel() != 1)
    fail("backward_curvature", "expects a one-element loss, got {}",
         loss.defined() ? shape_str(loss.shape()) : std::string("an undefined tensor"));
  CurvatureSink sink;
  for (const auto& p : parameters)
    if (p.defined()) sink.leaves[p.impl().get()] = Tensor();
  CurvatureResult result;
  result.gradients = gradients_with_curvature(loss, parameters, retain_graph, sink);
  for (const auto& p : parameters) {
    Tensor& diagonal = sink.leaves[p.impl().get()];
    result.diagonals.push_back(diagonal.defined() ? diagonal : zeros_like(p));
  }
  return result;
}

}  // namespace ag
