#pragma once
/// Nearest-neighbour upsampling: each value repeated over a k x k block. It is the transpose of the window
/// sums of sub-sampling (subsample.h), and so the differentiable form of sub-sampling's gradient.
#include <cstdint>

#include "autograd/tensor.h"

namespace ag {

/// Returns y[n,c,i,j] = x[n,c,i/k,j/k]: x [N,C,H,W] -> [N,C,kH,kW], for a factor k >= 1.
Tensor upsample_nearest(const Tensor& x, std::int64_t factor);

}  // namespace ag
