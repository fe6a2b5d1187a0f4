#pragma once
/// Max pooling over square windows of each map.
#include <cstdint>

#include "autograd/ops/activation.h"
#include "autograd/tensor.h"

namespace ag {

/// Returns y[n,c,i,j] = max_{a,b<k} x[n,c,s i+a,s j+b]: x [N,C,H,W] -> [N,C,(H-k)/s+1,(W-k)/s+1], no padding.
/// Tie rule: the first maximal element in row-major window order (smallest a, then smallest b) gets the
/// whole gradient; where windows overlap (s < k), an element's gradients from each window add up.
/// With an activation f, returns f of that, as one op ("max_pool2d+relu"): the same bits as the two ops.
Tensor max_pool2d(const Tensor& x, std::int64_t kernel, std::int64_t stride, Activation activation = Activation::none);
/// Returns max_pool2d(x, kernel, kernel): non-overlapping k x k windows, [N,C,H,W] -> [N,C,(H-k)/k+1,(W-k)/k+1].
Tensor max_pool2d(const Tensor& x, std::int64_t kernel);

}  // namespace ag
