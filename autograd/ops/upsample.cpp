#include "autograd/ops/upsample.h"

#include <vector>

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/subsample.h"
#include "kernels/subsample.h"

namespace ag {

// y[n,c,i,j] = x[n,c,i/k,j/k];  dL/dx[n,c,i,j] = sum of dL/dy over block (i, j): sub-sampling's window sums
// (coefficient 1, no bias), which are recorded, so that this rule is differentiable again. Curvature: J entries
// are 0 or 1 (each output copies one input), so D_x is D_y summed over each block, as the gradient.
Tensor upsample_nearest(const Tensor& x, std::int64_t factor) {
  if (!x.defined() || x.dim() != 4 || x.dtype() == DType::i64)
    fail("upsample_nearest", "expects a float32 or float64 input [N,C,H,W], got {}",
         x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  if (factor < 1) fail("upsample_nearest", "factor must be at least 1, got {}: input {}", factor, shape_str(x.shape()));
  const std::int64_t channels = x.size(1);
  const kernels::SubsampleShape geo{channels, x.size(2) * factor, x.size(3) * factor, factor};
  Tensor out = empty({x.size(0), channels, geo.height, geo.width}, x.dtype());
  dispatch_floating(x.dtype(), "upsample_nearest", [&](auto type) {
    using T = decltype(type);
    // Sub-sampling's input gradient with unit coefficients is exactly this spreading.
    const std::vector<T> unit(static_cast<std::size_t>(channels), T(1));
    kernels::subsample_backward<T>(geo, x.size(0), {x.data<T>()}, unit.data(), nullptr, out.mutable_data<T>(), nullptr,
                                   nullptr);
  });
  return record("upsample_nearest", out, {x}, with_curvature(composed([factor](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{subsample(g, ones({g.size(1)}, g.dtype()), Tensor(), factor)};
  }), internal::route_curvature), {});
}

}  // namespace ag
