#include "autograd/ops/activation.h"

#include "autograd/ops/internal/elementwise.h"
#include "kernels/activation.h"
#include "autograd/graph.h"

namespace ag {

static_assert(kScaledTanhA == kernels::kScaledTanhA && kScaledTanhS == kernels::kScaledTanhS,
              "the public constants of the squashing function are the kernels'");

namespace {

/// y = Rule::value(x) elementwise, recorded with dL/dx = Rule::gradient(dL/dy, y) (each rule's maths is in
/// kernels/activation.h, written in terms of the output y, which the node keeps).
/// The names are string literals (the backward's is used in its error messages).
template <class Rule>
Tensor activation_op(const char* name, const char* backward_name, const Tensor& x) {
  Tensor out = internal::map_unary(name, x, [](auto v) { return Rule::value(v); });
  const Tensor y = out.detach();  // the output, which the rule reads
  return record(name, out, {x}, [backward_name, y](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{
        internal::map_binary(backward_name, g, y, [](auto gv, auto yv) { return Rule::gradient(gv, yv); })};
  }, {y});
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

Tensor tanh(const Tensor& x) { return activation_op<kernels::TanhRule>("tanh", "tanh backward", x); }

Tensor scaled_tanh(const Tensor& x) { return activation_op<kernels::ScaledTanhRule>("scaled_tanh", "scaled_tanh backward", x); }

Tensor sigmoid(const Tensor& x) { return activation_op<kernels::SigmoidRule>("sigmoid", "sigmoid backward", x); }

Tensor relu(const Tensor& x) { return activation_op<kernels::ReluRule>("relu", "relu backward", x); }

}  // namespace ag
