#include "autograd/ops/index.h"

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/flat_index.h"

namespace ag {

// y[n] = x[n, t_n];  dL/dx[n,c] = dL/dy[n] if c = t_n, else 0
Tensor pick(const Tensor& x, const Tensor& index) {
  if (x.dim() != 2 || index.dim() != 1 || index.dtype() != DType::i64 || index.size(0) != x.size(0))
    fail("pick", "expects x [N,C] and an int64 index [N], got x {} and index {} {}", shape_str(x.shape()),
         shape_str(index.shape()), dtype_name(index.dtype()));
  const std::int64_t rows = x.size(0), cols = x.size(1);
  const std::int64_t* t = index.data<std::int64_t>();
  for (std::int64_t r = 0; r < rows; ++r)
    if (t[r] < 0 || t[r] >= cols) fail("pick", "index {} at row {} is out of range for x {}", t[r], r, shape_str(x.shape()));
  Tensor out = empty({rows}, x.dtype());
  dispatch_floating(x.dtype(), "pick", [&](auto type) {
    using T = decltype(type);
    for (std::int64_t r = 0; r < rows; ++r) out.mutable_data<T>()[r] = x.data<T>()[r * cols + t[r]];
  });
  // The recorded rule: a scatter of dL/dy to the flat positions n C + t_n.
  const auto recorded = [index](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor flat = empty(index.shape(), DType::i64);
    const std::int64_t* t = index.data<std::int64_t>();
    for (std::int64_t r = 0; r < index.numel(); ++r) flat.mutable_data<std::int64_t>()[r] = r * in[0].size(1) + t[r];
    return std::vector<Tensor>{internal::scatter_flat(g, flat, in[0].shape())};
  };
  const auto fast = [index](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor gx = zeros_like(in[0]);
    const std::int64_t cols = in[0].size(1);
    const std::int64_t* t = index.data<std::int64_t>();
    dispatch_floating(g.dtype(), "pick backward", [&](auto type) {
      using T = decltype(type);
      for (std::int64_t r = 0; r < g.numel(); ++r) gx.mutable_data<T>()[r * cols + t[r]] = g.data<T>()[r];
    });
    return std::vector<Tensor>{gx};
  };
  // Curvature: J entries are 0 or 1, so D_x[n, t_n] = D_y[n], 0 elsewhere, routed by the backward rule.
  return record("pick", out, {x}, Rules{fast, recorded, internal::route_curvature}, {});
}

}  // namespace ag
