#pragma once
/// Max-pooling kernels: the maximum of each window, and its gradient routed to the window's first maximum.
#include <cstdint>

#include "kernels/activation.h"
#include "kernels/reference.h"

namespace ag::kernels {

/// The shape of a call: `planes` maps (N C) of H x W, k x k windows `stride` apart.
struct MaxPoolShape {
  std::int64_t planes = 0, height = 0, width = 0, k = 1, stride = 1;
  std::int64_t out_h() const { return (height - k) / stride + 1; }
  std::int64_t out_w() const { return (width - k) / stride + 1; }
};

/// y [planes, OH, OW] = activation(the maximum of each window of x [planes, H, W]); `index` (when not null)
/// gets each window's first maximum in row-major window order (a strict >), as an offset in its plane.
template <class T>
void max_pool_forward(const MaxPoolShape& shape, const T* x, Activation activation, T* y, std::int32_t* index,
                      Implementation impl = kImplementation);

/// dL/dx [planes, H, W] = dL/dz [planes, OH, OW] added at each window's `index` (0 elsewhere).
template <class T>
void max_pool_backward(const MaxPoolShape& shape, const T* gy, const std::int32_t* index, T* gx);

}  // namespace ag::kernels
