#pragma once
/// Internal to the ops: what an op that applies an activation to its own output (a fused epilogue: conv2d,
/// linear, subsample, max_pool2d) shares: the kernels' name for the activation, the node's name, and the rule
/// dL/dz = dL/dy f'(z) written from the output y.
#include <string>
#include <string_view>

#include "autograd/ops/activation.h"
#include "autograd/ops/internal/elementwise.h"
#include "kernels/activation.h"

namespace ag::internal {

/// Returns the kernels' spelling of `activation`.
inline kernels::Activation kernel_activation(Activation activation) {
  switch (activation) {
    case Activation::relu: return kernels::Activation::relu;
    case Activation::tanh: return kernels::Activation::tanh;
    case Activation::scaled_tanh: return kernels::Activation::scaled_tanh;
    case Activation::sigmoid: return kernels::Activation::sigmoid;
    case Activation::none: break;
  }
  return kernels::Activation::none;
}

/// What an op with a fused activation epilogue records: its node's name ("conv2d", or "conv2d+relu" with an
/// activation) and the output y that the gradient rule needs (undefined without an activation).
struct FusedActivation {
  std::string name;
  Tensor y;
};

/// Returns what follows "op+" in the name of an op with `activation` fused ("relu"), empty for none.
inline std::string_view fused_suffix(Activation activation) {
  return activation == Activation::none ? std::string_view() : activation_name(activation);
}

/// Returns the name and kept output for op `op` whose result `out` had `activation` applied.
inline FusedActivation fused_activation(std::string_view op, Activation activation, const Tensor& out) {
  if (activation == Activation::none) return {std::string(op), Tensor()};
  return {std::string(op) + "+" + std::string(activation_name(activation)), out.detach()};
}

/// Returns dL/dz = g f'(z) for the activation f of an op's fused epilogue y = f(z), from g = dL/dy and y
/// (same shapes); g itself for none. `op` names the backward in error messages.
inline Tensor activation_input_gradient(const char* op, Activation activation, const Tensor& g, const Tensor& y) {
  Tensor gz = g;
  kernels::with_rule(kernel_activation(activation), [&](auto rule) {
    gz = map_binary(op, g, y, [](auto gv, auto yv) { return decltype(rule)::gradient(gv, yv); });
  });
  return gz;
}

}  // namespace ag::internal
