#include "autograd/ops/shape_ops.h"

#include <algorithm>
#include <numeric>

#include "autograd/ops/internal/elementwise.h"
#include "autograd/graph.h"

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
  return record("reshape", out, {x}, composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{reshape(g, in[0].shape())};
  }), {});
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

// y = x with axes d0, d1 swapped;  dL/dx = dL/dy with the same axes swapped back
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1) {
  const std::int64_t a = normalize_dim("transpose", d0, x.dim());
  const std::int64_t b = normalize_dim("transpose", d1, x.dim());
  Shape shape = x.shape();
  std::swap(shape[a], shape[b]);
  Tensor out = empty(shape, x.dtype());
  // Read x through swapped strides while writing out contiguously.
  auto read_strides = contiguous_strides(x.shape());
  std::swap(read_strides[a], read_strides[b]);
  dispatch_floating(x.dtype(), "transpose", [&](auto type) {
    using T = decltype(type);
    const T* in = x.data<T>();
    T* o = out.mutable_data<T>();
    const std::int64_t inner = shape.empty() ? 1 : shape.back();
    const std::int64_t step = shape.empty() ? 0 : read_strides.back();
    internal::for_each_row<2>(shape, {contiguous_strides(shape), read_strides}, [&](const std::array<std::int64_t, 2>& off) {
      for (std::int64_t j = 0; j < inner; ++j) o[off[0] + j] = in[off[1] + j * step];
    });
  });
  return record("transpose", out, {x}, composed([a, b](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{transpose(g, a, b)};
  }), {});
}

// y = x converted;  dL/dx = dL/dy converted back to x's dtype
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
  return record("to_dtype", out, {x}, composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{to_dtype(g, in[0].dtype())};
  }), {});
}

}  // namespace ag
