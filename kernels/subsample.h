#pragma once
/// LeNet-5's sub-sampling kernels: each k x k window summed, times a per-map coefficient, plus a per-map bias.
#include <cstdint>

#include "kernels/activation.h"
#include "kernels/reference.h"

namespace ag::kernels {

/// One sample's shape: C maps of H x W, k x k windows (H and W multiples of k).
struct SubsampleShape {
  std::int64_t channels = 0, height = 0, width = 0, k = 1;
  std::int64_t out_h() const { return height / k; }
  std::int64_t out_w() const { return width / k; }
};

/// y [N,C,H/k,W/k] = activation(coeff[c] s + bias[c]) for the window sums s of x [N,C,H,W]; coeff [C], bias
/// [C] or null; the sums s are also written to `pooled` when not null.
template <class T>
void subsample_forward(const SubsampleShape& shape, std::int64_t batch, const T* x, const T* coeff, const T* bias,
                       Activation activation, T* y, T* pooled, Implementation impl = kImplementation);

/// dL/dy [N,C,H/k,W/k] of a sub-sampling whose output went through `activation`, and that output y = f(z)
/// (read unless the activation is none): the backward starts from G = dL/dz = dL/dy f'(z), written from y.
template <class T>
struct SubsampleOutputGradient {
  const T* gy = nullptr;
  const T* y = nullptr;
  Activation activation = Activation::none;
};

/// From dL/dy (G = dL/dz after the activation's gradient, computed chunk by chunk) and the window sums
/// `pooled` [N,C,H/k,W/k] (read only for gcoeff): dL/dx [N,C,H,W] = coeff[c] G spread over each window,
/// dL/dcoeff [C] = sum G s, dL/dbias [C] = sum G, each written where not null.
template <class T>
void subsample_backward(const SubsampleShape& shape, std::int64_t batch, const SubsampleOutputGradient<T>& gy,
                        const T* coeff, const T* pooled, T* gx, T* gcoeff, T* gbias,
                        Implementation impl = kImplementation);

}  // namespace ag::kernels
