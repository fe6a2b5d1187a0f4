#include "autograd/ops/reduce.h"

#include "autograd/ops/internal/axis.h"
#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/flat_index.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/broadcast.h"
#include "autograd/ops/shape_ops.h"

namespace ag {

namespace {

/// Index of the first extreme element along the axis for each (outer, inner): argmax or argmin.
template <bool kMax>
Tensor arg_extreme(std::string_view op, const Tensor& x, std::int64_t dim, bool keepdim) {
  const auto v = internal::axis_view(op, x.shape(), dim);
  if (v.n == 0) fail(op, "dimension {} of shape {} is empty", dim, shape_str(x.shape()));
  Tensor out = empty(internal::reduced_shape(x.shape(), v.dim, keepdim), DType::i64);
  std::int64_t* idx = out.mutable_data<std::int64_t>();
  dispatch_floating(x.dtype(), op, [&](auto type) {
    using T = decltype(type);
    const T* p = x.data<T>();
    for (std::int64_t o = 0; o < v.outer; ++o)
      for (std::int64_t i = 0; i < v.inner; ++i) {
        const T* base = p + o * v.n * v.inner + i;
        std::int64_t best = 0;
        for (std::int64_t k = 1; k < v.n; ++k)  // strict comparison: ties keep the first index
          if (kMax ? base[k * v.inner] > base[best * v.inner] : base[k * v.inner] < base[best * v.inner]) best = k;
        idx[o * v.inner + i] = best;
      }
  });
  return out;
}

}  // namespace

// y = sum_i x_i;  dL/dx_i = dL/dy
Tensor sum(const Tensor& x) {
  Tensor out = empty({}, x.dtype());
  dispatch_floating(x.dtype(), "sum", [&](auto type) {
    using T = decltype(type);
    const T* p = x.data<T>();
    T total = 0;
    for (std::int64_t i = 0; i < x.numel(); ++i) total += p[i];
    out.mutable_data<T>()[0] = total;
  });
  return record("sum", out, {x}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{expand(g, in[0].shape())};
  }), internal::route_curvature), {});
}

// y[o,i] = sum_k x[o,k,i];  dL/dx[o,k,i] = dL/dy[o,i]
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim) {
  const auto v = internal::axis_view("sum", x.shape(), dim);
  Tensor out = zeros(internal::reduced_shape(x.shape(), v.dim, keepdim), x.dtype());
  dispatch_floating(x.dtype(), "sum", [&](auto type) {
    using T = decltype(type);
    const T* p = x.data<T>();
    T* o = out.mutable_data<T>();
    for (std::int64_t a = 0; a < v.outer; ++a)
      for (std::int64_t k = 0; k < v.n; ++k) {
        const T* row = p + (a * v.n + k) * v.inner;
        T* acc = o + a * v.inner;
        for (std::int64_t i = 0; i < v.inner; ++i) acc[i] += row[i];
      }
  });
  const std::int64_t d = v.dim;
  return record("sum", out, {x}, with_curvature(composed([d](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{expand(reshape(g, internal::reduced_shape(in[0].shape(), d, true)), in[0].shape())};
  }), internal::route_curvature), {});
}

// y = sum(x) / n, built from sum and a scalar multiply, so its gradient comes from theirs.
Tensor mean(const Tensor& x) {
  if (x.numel() == 0) fail("mean", "mean of an empty tensor of shape {}", shape_str(x.shape()));
  return mul(sum(x), 1.0 / static_cast<double>(x.numel()));
}

Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim) {
  const auto v = internal::axis_view("mean", x.shape(), dim);
  if (v.n == 0) fail("mean", "dimension {} of shape {} is empty", dim, shape_str(x.shape()));
  return mul(sum(x, dim, keepdim), 1.0 / static_cast<double>(v.n));
}

// y[o,i] = max_k x[o,k,i];  dL/dx[o,k,i] = dL/dy[o,i] at k = the first argmax, else 0. Curvature: J entries
// are 0 or 1 (one per output, at its first argmax), so D routes as the gradient does.
Tensor max(const Tensor& x, std::int64_t dim, bool keepdim) {
  const auto v = internal::axis_view("max", x.shape(), dim);
  Tensor index = arg_extreme<true>("max", x, dim, true);
  Tensor out = empty(internal::reduced_shape(x.shape(), v.dim, keepdim), x.dtype());
  dispatch_floating(x.dtype(), "max", [&](auto type) {
    using T = decltype(type);
    const T* p = x.data<T>();
    const std::int64_t* idx = index.data<std::int64_t>();
    T* o = out.mutable_data<T>();
    for (std::int64_t a = 0; a < v.outer; ++a)
      for (std::int64_t i = 0; i < v.inner; ++i)
        o[a * v.inner + i] = p[(a * v.n + idx[a * v.inner + i]) * v.inner + i];
  });
  // The recorded rule scatters dL/dy to the same positions, given as flat indices into x.
  const auto recorded = [v, index, shape = out.shape()](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor flat = empty(shape, DType::i64);
    const std::int64_t* idx = index.data<std::int64_t>();
    std::int64_t* f = flat.mutable_data<std::int64_t>();
    for (std::int64_t a = 0; a < v.outer; ++a)
      for (std::int64_t i = 0; i < v.inner; ++i) f[a * v.inner + i] = (a * v.n + idx[a * v.inner + i]) * v.inner + i;
    return std::vector<Tensor>{internal::scatter_flat(g, flat, in[0].shape())};
  };
  const auto fast = [v, index](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor gx = zeros_like(in[0]);
    dispatch_floating(g.dtype(), "max backward", [&](auto type) {
      using T = decltype(type);
      const T* pg = g.data<T>();
      const std::int64_t* idx = index.data<std::int64_t>();
      T* o = gx.mutable_data<T>();
      for (std::int64_t a = 0; a < v.outer; ++a)
        for (std::int64_t i = 0; i < v.inner; ++i)
          o[(a * v.n + idx[a * v.inner + i]) * v.inner + i] = pg[a * v.inner + i];
    });
    return std::vector<Tensor>{gx};
  };
  return record("max", out, {x}, Rules{fast, recorded, internal::route_curvature}, {});
}

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) { return arg_extreme<true>("argmax", x, dim, keepdim); }
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim) { return arg_extreme<false>("argmin", x, dim, keepdim); }

}  // namespace ag
