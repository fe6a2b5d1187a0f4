#include "autograd/ops/activation.h"

#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/elementwise.h"
#include "kernels/activation.h"
#include "autograd/graph.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/unary.h"

namespace ag {

static_assert(kScaledTanhA == kernels::kScaledTanhA && kScaledTanhS == kernels::kScaledTanhS,
              "the public constants of the squashing function are the kernels'");

namespace {

/// y = Rule::value(x) elementwise, recorded with dL/dx = Rule::gradient(dL/dy, y) (each rule's maths is in
/// kernels/activation.h, written in terms of the output y, which the node keeps); the recorded rule
/// recomputes y from x, so that a create_graph pass can differentiate the gradient.
/// The names are string literals (the backward's is used in its error messages).
template <class Rule>
Tensor activation_op(Activation activation, const char* name, const char* backward_name, const Tensor& x) {
  Tensor out = internal::map_unary(name, x, [](auto v) { return Rule::value(v); });
  const Tensor y = out.detach();  // the output, which the rule reads
  const auto fast = [backward_name, y](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{
        internal::map_binary(backward_name, g, y, [](auto gv, auto yv) { return Rule::gradient(gv, yv); })};
  };
  const auto recorded = [activation](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{activation_backward(activation, g, activate(in[0], activation))};
  };
  // Gauss-Newton: D_x = f'(x)^2 D_y elementwise (the f''(x) dL/dy term dropped), f' read from the saved y.
  const auto curvature = [activation](const CurvatureInput& at) {
    return std::vector<Tensor>{internal::activation_curvature(activation, at.curvature, at.saved[0])};
  };
  return record(name, out, {x}, Rules{fast, recorded, curvature}, {y});
}

}  // namespace

std::string_view activation_name(Activation activation) {
  switch (activation) {
    case Activation::relu:
      return "relu";
    case Activation::tanh:
      return "tanh";
    case Activation::scaled_tanh:
      return "scaled_tanh";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::none:
      break;
  }
  return "none";
}

Tensor activate(const Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::relu:
      return relu(x);
    case Activation::tanh:
      return tanh(x);
    case Activation::scaled_tanh:
      return scaled_tanh(x);
    case Activation::sigmoid:
      return sigmoid(x);
    case Activation::none:
      break;
  }
  return x;
}

// The rules of kernels/activation.h with ops: relu's 0/1 mask is a constant (its own derivative is 0 almost
// everywhere); tanh's 1 - y^2; scaled tanh's (S/A)(A^2 - y^2); sigmoid's y (1 - y).
Tensor activation_backward(Activation activation, const Tensor& grad_output, const Tensor& output) {
  switch (activation) {
    case Activation::relu:
      return mul(grad_output, internal::map_unary("relu backward", output.detach(), [](auto v) {
        return v > 0 ? decltype(v)(1) : decltype(v)(0);
      }));
    case Activation::tanh:
      return mul(grad_output, rsub(1.0, square(output)));
    case Activation::scaled_tanh:
      return mul(grad_output, mul(rsub(kScaledTanhA * kScaledTanhA, square(output)), kScaledTanhS / kScaledTanhA));
    case Activation::sigmoid:
      return mul(grad_output, mul(output, rsub(1.0, output)));
    case Activation::none:
      break;
  }
  return grad_output;
}

Tensor tanh(const Tensor& x) { return activation_op<kernels::TanhRule>(Activation::tanh, "tanh", "tanh backward", x); }

Tensor scaled_tanh(const Tensor& x) {
  return activation_op<kernels::ScaledTanhRule>(Activation::scaled_tanh, "scaled_tanh", "scaled_tanh backward", x);
}

Tensor sigmoid(const Tensor& x) {
  return activation_op<kernels::SigmoidRule>(Activation::sigmoid, "sigmoid", "sigmoid backward", x);
}

Tensor relu(const Tensor& x) { return activation_op<kernels::ReluRule>(Activation::relu, "relu", "relu backward", x); }

}  // namespace ag
