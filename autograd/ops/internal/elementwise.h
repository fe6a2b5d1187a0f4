#pragma once
/// Internal to the ops: a unary map and a broadcasting binary map over tensors, and the strided row walker
/// both use; the loops themselves are the kernels' (kernels/elementwise.h).
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "autograd/tensor.h"
#include "kernels/elementwise.h"

namespace ag::internal {

/// Visits every row (all dimensions but the last) of `shape` in row-major order, calling
/// body(offsets) with, for each operand k, the offset sum_d index_d * strides[k][d] of the row's start.
template <std::size_t K, class Body>
void for_each_row(const Shape& shape, const std::array<std::vector<std::int64_t>, K>& strides, Body&& body) {
  const std::size_t rank = shape.size();
  std::array<std::int64_t, K> offsets{};
  if (rank <= 1) {
    body(offsets);
    return;
  }
  for (auto d : shape)
    if (d == 0) return;
  std::vector<std::int64_t> index(rank - 1, 0);
  while (true) {
    body(offsets);
    // Odometer increment over dimensions rank-2 .. 0, keeping the offsets in step.
    std::size_t d = rank - 1;
    while (d-- > 0) {
      ++index[d];
      for (std::size_t k = 0; k < K; ++k) offsets[k] += strides[k][d];
      if (index[d] < shape[d]) break;
      for (std::size_t k = 0; k < K; ++k) offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
      if (d == 0) return;
    }
  }
}

/// Throws naming `op` when a and b have different dtypes.
void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b);

/// Returns f applied to every element of x (f is generic over float and double).
template <class F>
Tensor map_unary(std::string_view op, const Tensor& x, F f) {
  Tensor out = empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto type) {
    using T = decltype(type);
    const T* in = x.data<T>();
    T* o = out.mutable_data<T>();
    kernels::for_blocks(x.numel(),
               [=](std::int64_t begin, std::int64_t end) { kernels::map_block(in + begin, o + begin, end - begin, f); });
  });
  return out;
}

/// Returns f(a, b) elementwise with NumPy broadcasting; throws naming `op` and both shapes otherwise.
template <class F>
Tensor map_binary(std::string_view op, const Tensor& a, const Tensor& b, F f) {
  check_same_dtype(op, a, b);
  const Shape shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = empty(shape, a.dtype());
  dispatch_floating(a.dtype(), op, [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* o = out.mutable_data<T>();
    const std::int64_t n = out.numel();
    if (a.shape() == b.shape()) {
      kernels::for_blocks(n, [=](std::int64_t begin, std::int64_t end) {
        kernels::map_block(pa + begin, pb + begin, o + begin, end - begin, f);
      });
      return;
    }
    if (b.numel() == 1 && a.numel() == n) {  // tensor op scalar-like tensor
      const T vb = pb[0];
      for (std::int64_t i = 0; i < n; ++i) o[i] = f(pa[i], vb);
      return;
    }
    if (a.numel() == 1 && b.numel() == n) {
      const T va = pa[0];
      for (std::int64_t i = 0; i < n; ++i) o[i] = f(va, pb[i]);
      return;
    }
    const auto sa = broadcast_strides(a.shape(), shape);
    const auto sb = broadcast_strides(b.shape(), shape);
    const auto so = contiguous_strides(shape);
    const std::int64_t inner = shape.empty() ? 1 : shape.back();
    const std::int64_t ia = shape.empty() ? 0 : sa.back();
    const std::int64_t ib = shape.empty() ? 0 : sb.back();
    for_each_row<3>(shape, {so, sa, sb}, [&](const std::array<std::int64_t, 3>& off) {
      T* orow = o + off[0];
      const T* arow = pa + off[1];
      const T* brow = pb + off[2];
      for (std::int64_t j = 0; j < inner; ++j) orow[j] = f(arow[j * ia], brow[j * ib]);
    });
  });
  return out;
}

}  // namespace ag::internal
