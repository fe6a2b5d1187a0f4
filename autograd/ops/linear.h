#pragma once
/// The fully connected layer's op, fused: one matrix product forward, two backward, no transposed copies.
#include "autograd/tensor.h"

namespace ag {

/// Returns x W^T + b: x [N,in], weight [out,in], bias [out] (or undefined for none) -> [N,out].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace ag
