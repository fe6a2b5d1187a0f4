#pragma once
/// Max pooling over the windows of each map.
#include <cstdint>

#include "autograd/ops/activation.h"
#include "autograd/tensor.h"

namespace ag {

/// Returns y[n,c,i,j] = max over a < kh, b < kw of x[n,c, sh i + a - ph, sw j + b - pw], for the window
/// `kernel` (kh, kw), `stride` (sh, sw) and `padding` (ph, pw; at most half the window, so that every window
/// holds an element of x, and padding never wins): x [N,C,H,W] -> [N,C,(H+2ph-kh)/sh+1,(W+2pw-kw)/sw+1].
/// One number sets both axes. Tie rule: the first maximal element in row-major window order (smallest a,
/// then smallest b) gets the whole gradient; where windows overlap (s < k), an element's gradients from each
/// window add up. With an activation f, returns f of that, as one op ("max_pool2d+relu"): the same bits as
/// the two ops. Square windows with one stride and no padding run on the fast kernel; others on the plain
/// reference loop.
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding, Activation activation = Activation::none);

/// Returns max_pool2d(x, kernel, stride, 0, activation): no padding.
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Activation activation = Activation::none);

/// Returns max_pool2d(x, kernel, kernel): non-overlapping windows, [N,C,H,W] -> [N,C,H/kh,W/kw] (rounded down).
Tensor max_pool2d(const Tensor& x, Size2 kernel);

}  // namespace ag
