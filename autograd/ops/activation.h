#pragma once
/// Activations (squashing functions). Each returns a tensor of its input's shape.
#include "autograd/tensor.h"

namespace ag {

/// The constants of LeNet-5's squashing function f(a) = A tanh(S a): f(1) = 1, f(-1) = -1.
inline constexpr double kScaledTanhA = 1.7159;
inline constexpr double kScaledTanhS = 2.0 / 3.0;

/// Returns tanh(x), same shape.
Tensor tanh(const Tensor& x);
/// Returns the paper's squashing function 1.7159 tanh(2x/3), same shape.
Tensor scaled_tanh(const Tensor& x);
/// Returns 1 / (1 + e^-x), same shape.
Tensor sigmoid(const Tensor& x);
/// Returns max(x, 0), same shape; its gradient at exactly 0 is taken as 0.
Tensor relu(const Tensor& x);

}  // namespace ag
