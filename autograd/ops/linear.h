#pragma once
/// The fully connected layer's op, fused: one matrix product forward, two backward, no transposed copies.
#include "autograd/ops/activation.h"
#include "autograd/tensor.h"

namespace ag {

/// Returns x W^T + b: x [N,in], weight [out,in], bias [out] (or undefined for none) -> [N,out], then the fused
/// `activation` applied to it, bitwise as the activation op after it would (see Conv2dOptions::activation).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation activation = Activation::none);

}  // namespace ag
