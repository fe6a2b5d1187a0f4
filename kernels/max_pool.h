#pragma once
/// Max-pooling kernels: the maximum of each window, and its gradient routed to the window's first maximum.
#include <cstdint>

#include "kernels/activation.h"
#include "kernels/reference.h"

namespace ag::kernels {

/// The shape of a call: `planes` maps (N C) of H x W, kh x kw windows stride_h down and stride_w across,
/// over the maps padded by pad_h rows and pad_w columns on each side (padding is never a maximum: each window
/// holds an element of the map while padding is at most half the window).
struct MaxPoolShape {
  std::int64_t planes = 0, height = 0, width = 0, kh = 1, kw = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  std::int64_t out_h() const { return (height + 2 * pad_h - kh) / stride_h + 1; }
  std::int64_t out_w() const { return (width + 2 * pad_w - kw) / stride_w + 1; }
  /// True for square windows, one stride and no padding: the shapes the fast path serves.
  bool uniform() const { return kh == kw && stride_h == stride_w && pad_h == 0 && pad_w == 0; }
};

/// y [planes, OH, OW] = activation(the maximum of each window of x [planes, H, W]); `index` (when not null)
/// gets each window's first maximum in row-major window order (a strict >), as an offset in its plane.
template <class T>
void max_pool_forward(const MaxPoolShape& shape, const T* x, Activation activation, T* y, std::int32_t* index,
                      Implementation impl = kImplementation);

/// dL/dx [planes, H, W] = dL/dz [planes, OH, OW] added at each window's `index` (0 elsewhere), where dL/dz =
/// dL/dy f'(z) is formed from gy = dL/dy and the forward's y [planes, OH, OW] for the activation f (y unread for
/// none), as activation_gradient forms it. The fast path writes 2x2, stride 2 windows that tile the map
/// element by element, vectorised; the reference zeroes dL/dx and adds at each argmax. The same bits.
template <class T>
void max_pool_backward(const MaxPoolShape& shape, const T* gy, Activation activation, const T* y,
                       const std::int32_t* index, T* gx, Implementation impl = kImplementation);

}  // namespace ag::kernels
