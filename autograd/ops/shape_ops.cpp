// Shape ops. Every backward rule here is written with recorded ops only and reads no tensor's values, so each
// gives its rule as both (composed): differentiable to any order.
#include "autograd/ops/shape_ops.h"

#include <algorithm>
#include <numeric>

#include "autograd/ops/internal/elementwise.h"
#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"

namespace ag {

// y = x viewed with a new shape;  dL/dx = dL/dy viewed with x's shape
Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape target = shape;
  const auto inferred = std::count(target.begin(), target.end(), -1);
  if (inferred > 1) fail("reshape", "more than one -1 in target shape {}", shape_str(shape));
  if (inferred == 1) {
    std::int64_t known = 1;
    for (auto d : target)
      if (d != -1) known *= d;
    if (known == 0 || x.numel() % known != 0)
      fail("reshape", "cannot reshape {} into {}", shape_str(x.shape()), shape_str(shape));
    *std::find(target.begin(), target.end(), -1) = x.numel() / known;
  }
  if (numel_of(target) != x.numel() || std::any_of(target.begin(), target.end(), [](auto d) { return d < 0; }))
    fail("reshape", "cannot reshape {} ({} elements) into {}", shape_str(x.shape()), x.numel(), shape_str(shape));
  Tensor out = x.detach();  // a new handle on the same values
  out.impl()->shape = target;
  return record("reshape", out, {x}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{reshape(g, in[0].shape())};
  }), internal::route_curvature), {});
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  const std::int64_t rank = std::max<std::int64_t>(x.dim(), 1);
  const std::int64_t s = normalize_dim("flatten", start_dim, rank);
  const std::int64_t e = normalize_dim("flatten", end_dim, rank);
  if (s > e) fail("flatten", "start_dim {} comes after end_dim {} for shape {}", start_dim, end_dim, shape_str(x.shape()));
  if (x.dim() == 0) return reshape(x, {1});
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  shape.push_back(std::accumulate(x.shape().begin() + s, x.shape().begin() + e + 1, std::int64_t{1}, std::multiplies<>()));
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

namespace {

/// Returns x's values with its dimensions in `order` (y.shape[i] = x.shape[order[i]]), a contiguous copy:
/// x is read through its strides in that order while y is written in sequence. Unrecorded.
Tensor permuted_copy(std::string_view op, const Tensor& x, const std::vector<std::int64_t>& order) {
  const auto strides = contiguous_strides(x.shape());
  Shape shape(order.size());
  std::vector<std::int64_t> read_strides(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    shape[i] = x.shape()[static_cast<std::size_t>(order[i])];
    read_strides[i] = strides[static_cast<std::size_t>(order[i])];
  }
  Tensor out = empty(shape, x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto type) {
    using T = decltype(type);
    const T* in = x.data<T>();
    T* o = out.mutable_data<T>();
    const std::int64_t inner = shape.empty() ? 1 : shape.back();
    const std::int64_t step = shape.empty() ? 0 : read_strides.back();
    internal::for_each_row<2>(shape, {contiguous_strides(shape), read_strides}, [&](const std::array<std::int64_t, 2>& off) {
      for (std::int64_t j = 0; j < inner; ++j) o[off[0] + j] = in[off[1] + j * step];
    });
  });
  return out;
}

}  // namespace

// y = x with axes d0, d1 swapped;  dL/dx = dL/dy with the same axes swapped back
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1) {
  const std::int64_t a = normalize_dim("transpose", d0, x.dim());
  const std::int64_t b = normalize_dim("transpose", d1, x.dim());
  std::vector<std::int64_t> order(static_cast<std::size_t>(x.dim()));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::swap(order[static_cast<std::size_t>(a)], order[static_cast<std::size_t>(b)]);
  return record("transpose", permuted_copy("transpose", x, order), {x},
                with_curvature(composed([a, b](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{transpose(g, a, b)};
  }), internal::route_curvature), {});
}

// y[i_0, .., i_{r-1}] = x at index i_k in dimension dims[k], for every k
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims) {
  const std::int64_t rank = x.dim();
  std::vector<std::int64_t> order(dims.size()), inverse(dims.size(), -1);
  bool valid = static_cast<std::int64_t>(dims.size()) == rank;
  for (std::size_t k = 0; valid && k < dims.size(); ++k) {
    order[k] = dims[k] < 0 ? dims[k] + rank : dims[k];
    valid = order[k] >= 0 && order[k] < rank && inverse[static_cast<std::size_t>(order[k])] == -1;
    if (valid) inverse[static_cast<std::size_t>(order[k])] = static_cast<std::int64_t>(k);
  }
  if (!valid)
    fail("permute", "dims {} are not a permutation of the {} dimensions of x {} (each of 0..{} once, or negative "
         "counting from the end)", shape_str(Shape(dims)), rank, shape_str(x.shape()), rank - 1);
  // x [s_0, .., s_{r-1}] -> y [s_dims[0], .., s_dims[r-1]], G = dL/dy:  dL/dx = permute(G, inverse) [s_0, ..],
  // inverse[dims[k]] = k, which puts every dimension back.
  return record("permute", permuted_copy("permute", x, order), {x}, with_curvature(composed([inverse](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{permute(g, inverse)};
  }), internal::route_curvature), {});
}

// y = x converted;  dL/dx = dL/dy converted back to x's dtype; curvature: J = I, D converted back the same way
Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), dtype);
  dispatch_floating(x.dtype(), "to_dtype", [&](auto from) {
    dispatch_floating(dtype, "to_dtype", [&](auto to) {
      using From = decltype(from);
      using To = decltype(to);
      std::transform(x.data<From>(), x.data<From>() + x.numel(), out.mutable_data<To>(), [](From v) { return static_cast<To>(v); });
    });
  });
  return record("to_dtype", out, {x}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{to_dtype(g, in[0].dtype())};
  }), internal::route_curvature), {});
}

}  // namespace ag
