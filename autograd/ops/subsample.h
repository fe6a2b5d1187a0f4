#pragma once
/// LeNet-5's sub-sampling layers (S2, S4): each map's non-overlapping k x k windows summed, then scaled by a
/// trainable coefficient and shifted by a trainable bias, one of each per map.
#include <cstdint>

#include "autograd/ops/activation.h"
#include "autograd/tensor.h"

namespace ag {

/// Returns the paper's sum form (section II-B) y[n,c,i,j] = coeff[c] sum_{a,b<k} x[n,c,k i+a,k j+b] + bias[c]:
/// x [N,C,H,W], coeff [C], bias [C] or undefined (no bias) -> [N,C,H/k,W/k]; H and W must be divisible by k.
/// (The averaging form of section II-A is this with coeff / (k k).) A fused `activation` is applied to each
/// output as it is written, bitwise as the activation op after it would (see Conv2dOptions::activation).
Tensor subsample(const Tensor& x, const Tensor& coeff, const Tensor& bias, std::int64_t kernel = 2,
                 Activation activation = Activation::none);

}  // namespace ag
