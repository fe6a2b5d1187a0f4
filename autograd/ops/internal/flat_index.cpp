#include "autograd/ops/internal/flat_index.h"

#include <cstdint>
#include <vector>

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"

namespace ag::internal {

// Both maps have Jacobian entries 0 or 1, so their curvature rule is their backward rule run on D
// (route_curvature): a position read several times gets the sum of their D, as diag(J^T D J) has it.

// y[k] = x.flat[i_k];  dL/dx = scatter(dL/dy, i): each element's gradient goes back where it was read from
Tensor gather_flat(const Tensor& x, const Tensor& index) {
  Tensor out = empty(index.shape(), x.dtype());
  const std::int64_t* at = index.data<std::int64_t>();
  dispatch_floating(x.dtype(), "gather_flat", [&](auto type) {
    using T = decltype(type);
    const T* in = x.data<T>();
    T* o = out.mutable_data<T>();
    for (std::int64_t k = 0; k < index.numel(); ++k) o[k] = in[at[k]];
  });
  return record("gather_flat", out, {x}, with_curvature(composed([index](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{scatter_flat(g, index, in[0].shape())};
  }), route_curvature), {});
}

// y.flat[i_k] += g[k];  dL/dg[k] = dL/dy.flat[i_k]: a gather from the same positions
Tensor scatter_flat(const Tensor& g, const Tensor& index, const Shape& shape) {
  Tensor out = zeros(shape, g.dtype());
  const std::int64_t* at = index.data<std::int64_t>();
  dispatch_floating(g.dtype(), "scatter_flat", [&](auto type) {
    using T = decltype(type);
    const T* in = g.data<T>();
    T* o = out.mutable_data<T>();
    for (std::int64_t k = 0; k < index.numel(); ++k) o[at[k]] += in[k];
  });
  return record("scatter_flat", out, {g}, with_curvature(composed([index](const Tensor& gy, const std::vector<Tensor>&) {
    return std::vector<Tensor>{gather_flat(gy, index)};
  }), route_curvature), {});
}

}  // namespace ag::internal
