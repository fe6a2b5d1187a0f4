// Indexing by int64 index tensors. Every backward rule here is written with recorded ops only (index_add,
// index_select, scatter_add, gather, on zeros), reading the index's values and no other: each could serve as a
// differentiable rule as it is. The rules are linear in the upstream gradient. Every op here has Jacobian
// entries 0 or 1 (an element is read or added, unscaled), so its curvature rule is its backward rule run on D
// (internal::route_curvature): diag(J^T D J)[j] = sum_i J_ij D_i, which for an entry read several times
// (a repeated index) sums their D, as index_add and scatter_add do.
#include "autograd/ops/indexing.h"

#include "autograd/custom_op.h"
#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/axis.h"
#include "autograd/ops/internal/rows.h"

namespace ag {

namespace {

/// Throws naming `op`, the value and where it is unless every value of the int64 `index` is in 0..n-1, n being
/// the size of x (shape `x`) along dimension `dim`: "index[0,1] = 3 is out of range for dimension 1 of x [2,3]".
void check_index_values(std::string_view op, const Tensor& index, std::int64_t n, std::int64_t dim, const Shape& x) {
  const std::int64_t* p = index.data<std::int64_t>();
  for (std::int64_t i = 0; i < index.numel(); ++i) {
    if (p[i] >= 0 && p[i] < n) continue;
    Shape at(index.shape().size());  // i's coordinates in the index
    for (std::size_t k = at.size(), rest = static_cast<std::size_t>(i); k-- > 0;) {
      const auto size = static_cast<std::size_t>(index.shape()[k]);
      at[k] = static_cast<std::int64_t>(rest % size);
      rest /= size;
    }
    fail(op, "index{} = {} is out of range for dimension {} of x {} (0 <= index < {})", shape_str(at), p[i], dim,
         shape_str(x), n);
  }
}

/// Throws naming `op` unless `index` is an int64 vector [K] of entries of x along `dim` (size n).
void check_index_vector(std::string_view op, const Tensor& x, std::int64_t dim, std::int64_t n, const Tensor& index) {
  internal::check_defined(op, "index", index);
  if (index.dtype() != DType::i64 || index.dim() != 1)
    fail(op, "expects an int64 index [K], got {} {}", shape_str(index.shape()), dtype_name(index.dtype()));
  check_index_values(op, index, n, dim, x.shape());
}

/// Throws naming `op` unless `index` is int64, of x's rank, no larger than x along every dimension but `d`
/// (`dim` normalised), with values that are entries of x along `d`.
void check_aligned_index(std::string_view op, const Tensor& x, std::int64_t d, std::int64_t dim, const Tensor& index) {
  internal::check_defined(op, "index", index);
  bool fits = index.dtype() == DType::i64 && index.dim() == x.dim();
  for (std::int64_t k = 0; fits && k < x.dim(); ++k) fits = k == d || index.size(k) <= x.size(k);
  if (!fits)
    fail(op, "expects an int64 index of x's rank, no larger than x along every dimension but {}, got x {} and index {} {}",
         dim, shape_str(x.shape()), shape_str(index.shape()), dtype_name(index.dtype()));
  check_index_values(op, index, x.size(d), dim, x.shape());
}

/// Throws naming `op` and the three shapes unless the tensor `name` (values) is defined, of shape `expected`
/// (described by `why`) and of x's dtype.
void check_values(std::string_view op, const Tensor& x, const Tensor& index, std::string_view name,
                  const Tensor& values, const Shape& expected, std::string_view why) {
  if (!values.defined() || !(values.shape() == expected))
    fail(op, "expects {} {} ({}), got x {}, index {}, {} {}", name, shape_str(expected), why, shape_str(x.shape()),
         shape_str(index.shape()), name, values.defined() ? shape_str(values.shape()) : "undefined");
  internal::check_same_dtype(op, x, values);
}

}  // namespace

// y[.., k, ..] = x[.., index[k], ..]
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  internal::check_defined("index_select", "x", x);
  const auto v = internal::axis_view_of("index_select", "x", x.shape(), dim);
  check_index_vector("index_select", x, dim, v.n, index);
  const std::int64_t count = index.numel();
  Shape shape = x.shape();
  shape[static_cast<std::size_t>(v.dim)] = count;
  Tensor out = empty(shape, x.dtype());
  const std::int64_t* at = index.data<std::int64_t>();
  internal::move_rows<false>(
      x, v.n, out, count, v.outer, v.inner, count, [at](std::int64_t k) { return at[k]; },
      [](std::int64_t k) { return k; });
  // x [.., n, ..], index [K] -> y [.., K, ..], G = dL/dy:  dL/dx = index_add(zeros [.., n, ..], dim, index, G):
  // entry k of G goes back to entry index[k], where it was read from (an entry read twice sums both).
  const std::int64_t d = v.dim;
  return record("index_select", out, {x, index}, with_curvature(composed([d](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{index_add(zeros(in[0].shape(), g.dtype()), d, in[1], g), Tensor()};
  }), internal::route_curvature), {index});
}

// y = x, then y[.., index[k], ..] += source[.., k, ..] for every k
Tensor index_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& source) {
  internal::check_defined("index_add", "x", x);
  const auto v = internal::axis_view_of("index_add", "x", x.shape(), dim);
  check_index_vector("index_add", x, dim, v.n, index);
  const std::int64_t count = index.numel();
  Shape expected = x.shape();
  expected[static_cast<std::size_t>(v.dim)] = count;
  check_values("index_add", x, index, "source", source, expected, "x's shape with the index's length along dim");
  Tensor out = x.clone();
  const std::int64_t* at = index.data<std::int64_t>();
  internal::move_rows<true>(
      source, count, out, v.n, v.outer, v.inner, count, [](std::int64_t k) { return k; },
      [at](std::int64_t k) { return at[k]; });
  // x [.., n, ..], source [.., K, ..] -> y [.., n, ..], G = dL/dy:  dL/dx = G (y is x plus terms);
  // dL/dsource = index_select(G, dim, index) [.., K, ..]: entry k was added into entry index[k], whose G it reads.
  const std::int64_t d = v.dim;
  return record("index_add", out, {x, index, source}, with_curvature(composed([d](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{needs_grad(in, 0) ? g : Tensor(), Tensor(),
                               needs_grad(in, 2) ? index_select(g, d, in[1]) : Tensor()};
  }), internal::route_curvature), {index});
}

// y[p] = x[p with its coordinate along dim set to index[p]]
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  internal::check_defined("gather", "x", x);
  const auto v = internal::axis_view_of("gather", "x", x.shape(), dim);
  check_aligned_index("gather", x, v.dim, dim, index);
  Tensor out = empty(index.shape(), x.dtype());
  internal::dispatch_any(x.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* from = x.data<T>();
    const std::int64_t* at = index.data<std::int64_t>();
    T* to = out.mutable_data<T>();
    // v.inner is the stride of `dim` in x.
    internal::for_each_aligned(index.shape(), x.shape(), v.dim,
                               [&](std::int64_t p, std::int64_t q) { to[p] = from[q + at[p] * v.inner]; });
  });
  // x [S_x], index [S] -> y [S], G = dL/dy:  dL/dx = scatter_add(zeros [S_x], dim, index, G): G[p] goes back to
  // where y[p] was read from (a place read twice sums both).
  const std::int64_t d = v.dim;
  return record("gather", out, {x, index}, with_curvature(composed([d](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{scatter_add(zeros(in[0].shape(), g.dtype()), d, in[1], g), Tensor()};
  }), internal::route_curvature), {index});
}

// y = x, then y[p with its coordinate along dim set to index[p]] += src[p] for every p
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  internal::check_defined("scatter_add", "x", x);
  const auto v = internal::axis_view_of("scatter_add", "x", x.shape(), dim);
  check_aligned_index("scatter_add", x, v.dim, dim, index);
  check_values("scatter_add", x, index, "src", src, index.shape(), "the index's shape");
  Tensor out = x.clone();
  internal::dispatch_any(x.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* from = src.data<T>();
    const std::int64_t* at = index.data<std::int64_t>();
    T* to = out.mutable_data<T>();
    internal::for_each_aligned(index.shape(), x.shape(), v.dim,
                               [&](std::int64_t p, std::int64_t q) { to[q + at[p] * v.inner] += from[p]; });
  });
  // x [S_x], index and src [S] -> y [S_x], G = dL/dy:  dL/dx = G (y is x plus terms);
  // dL/dsrc = gather(G, dim, index) [S]: src[p] was added at one place, whose G it reads.
  const std::int64_t d = v.dim;
  return record("scatter_add", out, {x, index, src}, with_curvature(composed([d](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{needs_grad(in, 0) ? g : Tensor(), Tensor(),
                               needs_grad(in, 2) ? gather(g, d, in[1]) : Tensor()};
  }), internal::route_curvature), {index});
}

}  // namespace ag
