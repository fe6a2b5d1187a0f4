#pragma once
/// Activations (squashing functions). Each returns a tensor of its input's shape.
#include <string_view>

#include "autograd/tensor.h"

namespace ag {

/// An activation by name, for ops that apply one to their output as they write it (conv2d's epilogue).
enum class Activation { none, relu, tanh, scaled_tanh, sigmoid };

/// Returns the op name of an activation: "relu", "tanh", "scaled_tanh", "sigmoid" or "none".
std::string_view activation_name(Activation activation);
/// Returns the activation applied to x, same shape (none returns x itself).
Tensor activate(const Tensor& x, Activation activation);

/// Returns dL/dx from dL/dy `grad_output` and the activation's output y (both of one shape), written with
/// recorded ops: a differentiable rule for the activation ops and for the ops that fuse one (linear,
/// conv2d, subsample), when y was recomputed so that it carries its input's graph.
Tensor activation_backward(Activation activation, const Tensor& grad_output, const Tensor& output);

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
