#include "nn/layers/linear.h"

#include <fmt/format.h>

#include "autograd/ops/linear.h"
#include "nn/layers/activation.h"

namespace ag::nn {

Linear::Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen, Init init, DType dtype,
               Activation activation)
    : in_features_(in_features), out_features_(out_features), activation_(activation) {
  if (in_features <= 0 || out_features <= 0)
    fail("Linear", "feature counts must be positive, got {} -> {}", in_features, out_features);
  weight = empty({out_features, in_features}, dtype);
  bias = empty({out_features}, dtype);
  init_weight(weight, init, in_features, out_features, gen);
  init_bias(bias, init, in_features, gen);
  register_parameter("weight", weight);
  register_parameter("bias", bias);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias, activation_); }

std::string Linear::describe() const {
  return fmt::format("Linear({}->{}{})", in_features_, out_features_, then_text(activation_));
}

std::int64_t Linear::connections(const Shape&, const Shape&) const { return out_features_ * (in_features_ + 1); }

}  // namespace ag::nn
