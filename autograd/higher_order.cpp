#include "autograd/higher_order.h"

#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "autograd/backward.h"
#include "autograd/graph.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape_ops.h"

namespace ag {

namespace {

void check_scalar(const char* what, const Tensor& output) {
  if (!output.defined() || output.numel() != 1)
    fail(what, "needs a one-element output, got {}", output.defined() ? shape_str(output.shape()) : "undefined");
}

/// dL/dx_k of L = v . f(args) for one input k: with its graph (create_graph) when grad mode is on, as
/// gradcheck's analytical pass calls it; from fresh leaves and without a graph when off, as gradcheck's
/// central differences call it (on copies of the inputs, which require no gradient).
Tensor gradient_of_input(const GradcheckFn& f, const std::vector<Tensor>& args_and_v,
                         const std::vector<bool>& differentiable, std::size_t k) {
  std::vector<Tensor> args(args_and_v.begin(), args_and_v.end() - 1);
  const Tensor& v = args_and_v.back();
  const bool with_graph = grad_mode_enabled();
  const EnableGradGuard enable;
  if (!with_graph)
    for (std::size_t i = 0; i < args.size(); ++i)
      if (differentiable[i]) args[i] = args[i].detach().requires_grad_();
  const Tensor y = f(args);
  Tensor g = y.requires_grad() ? grad(y, {args[k]}, with_graph ? v : v.detach(), false, with_graph)[0] : Tensor();
  if (!g.defined()) return zeros(args[k].shape(), DType::f64);
  return with_graph ? g : g.detach();
}

}  // namespace

std::vector<Tensor> hvp(const Tensor& output, const std::vector<Tensor>& inputs, const std::vector<Tensor>& vectors,
                        bool retain_graph) {
  check_scalar("hvp", output);
  if (vectors.size() != inputs.size())
    fail("hvp", "{} vectors for {} inputs: give one vector per input", vectors.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (vectors[i].shape() != inputs[i].shape())
      fail("hvp", "vector {} is {} but input {} is {}", i, shape_str(vectors[i].shape()), i,
           shape_str(inputs[i].shape()));
  const EnableGradGuard enable;
  const std::vector<Tensor> grads = grad(output, inputs, Tensor(), true, true);
  Tensor dot;  // (dL/dx) . v, over every input whose gradient depends on the inputs
  for (std::size_t i = 0; i < grads.size(); ++i)
    if (grads[i].defined() && grads[i].requires_grad()) {
      const Tensor term = sum(mul(grads[i], vectors[i].detach()));
      dot = dot.defined() ? add(dot, term) : term;
    }
  std::vector<Tensor> result(inputs.size());
  if (dot.defined()) {
    const NoGradGuard no_grad;
    result = grad(dot, inputs, Tensor(), retain_graph);
  }
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!result[i].defined()) result[i] = zeros(inputs[i].shape(), inputs[i].dtype());
  return result;
}

std::vector<Tensor> hessian_diagonal(const Tensor& output, const std::vector<Tensor>& inputs) {
  check_scalar("hessian_diagonal", output);
  const EnableGradGuard enable;
  const std::vector<Tensor> grads = grad(output, inputs, Tensor(), true, true);
  std::vector<Tensor> diagonal;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Tensor d = zeros(inputs[i].shape(), DType::f64);
    if (grads[i].defined() && grads[i].requires_grad())
      for (std::int64_t e = 0; e < inputs[i].numel(); ++e) {
        // d2L/dx_e^2 = e-th entry of H u for the unit vector u at e: the gradient of (dL/dx) . u
        Tensor unit = zeros(inputs[i].shape(), inputs[i].dtype());
        if (unit.dtype() == DType::f32) unit.mutable_data<float>()[e] = 1;
        else unit.mutable_data<double>()[e] = 1;
        const Tensor element = sum(mul(grads[i], unit));
        if (!element.requires_grad()) continue;
        const Tensor second = grad(element, {inputs[i]}, Tensor(), true)[0];
        if (second.defined()) d.mutable_data<double>()[e] = second.to_vector()[static_cast<std::size_t>(e)];
      }
    diagonal.push_back(to_dtype(d, inputs[i].dtype()));
  }
  return diagonal;
}

GradcheckResult gradgradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                              const GradcheckOptions& options) {
  std::vector<bool> differentiable(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) differentiable[i] = inputs[i].defined() && inputs[i].requires_grad();
  const Tensor output = f(inputs);
  if (!output.defined() || output.dtype() != DType::f64)
    return {false, "gradgradcheck: the function must return a defined float64 tensor"};
  const std::string op = !options.name.empty() ? options.name : output.grad_fn() ? output.grad_fn()->name : "f";
  Generator gen(options.seed + 1);
  std::vector<Tensor> args_and_v = inputs;
  args_and_v.push_back(normal(output.shape(), 0.0, 1.0, gen, DType::f64).requires_grad_());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!differentiable[k]) continue;
    GradcheckOptions first = options;
    first.name = fmt::format("the gradient of {} for input {}", op, k);
    const GradcheckResult result = gradcheck(
        [&f, &differentiable, k](const std::vector<Tensor>& a) { return gradient_of_input(f, a, differentiable, k); },
        args_and_v, first);
    if (!result) return {false, "gradgradcheck: " + result.message};
  }
  return {};
}

}  // namespace ag
