#pragma once
/// Internal to the slicing, indexing and joining ops, which only move values: their check of a defined input, a
/// dtype dispatch that includes int64 (index and label tensors are moved like any other), and their two loops.
#include <cstdint>
#include <string_view>
#include <vector>

#include "autograd/ops/internal/elementwise.h"
#include "autograd/tensor.h"

namespace ag::internal {

/// Throws "<op>: <name> must be a defined tensor" unless t is defined.
inline void check_defined(std::string_view op, std::string_view name, const Tensor& t) {
  if (!t.defined()) fail(op, "{} must be a defined tensor", name);
}

/// Calls f(float{}), f(double{}) or f(std::int64_t{}) for `dtype`.
template <class F>
decltype(auto) dispatch_any(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i64: break;
  }
  return f(std::int64_t{});
}

/// Sees src and dst as [outer, src_n, inner] and [outer, dst_n, inner] (one dtype) and, for every outer
/// slice and k in [0, count), copies row src_row(k) of src into row dst_row(k) of dst, or adds it there
/// when Accumulate (rows named twice then sum). A row is `inner` contiguous values.
template <bool Accumulate, class SrcRow, class DstRow>
void move_rows(const Tensor& src, std::int64_t src_n, Tensor dst, std::int64_t dst_n, std::int64_t outer,
               std::int64_t inner, std::int64_t count, SrcRow src_row, DstRow dst_row) {
  dispatch_any(dst.dtype(), [&](auto type) {
    using T = decltype(type);
    const T* from = src.data<T>();
    T* to = dst.mutable_data<T>();
    for (std::int64_t a = 0; a < outer; ++a)
      for (std::int64_t k = 0; k < count; ++k) {
        const T* s = from + (a * src_n + src_row(k)) * inner;
        T* d = to + (a * dst_n + dst_row(k)) * inner;
        for (std::int64_t i = 0; i < inner; ++i) {
          if constexpr (Accumulate) d[i] += s[i];
          else d[i] = s[i];
        }
      }
  });
}

/// Visits every element of a tensor of shape `index_shape` (same rank as `x_shape`, no larger along any
/// dimension but `dim`), calling body(p, q): p its flat offset, q the flat offset in x of the same position
/// with the coordinate along `dim` set to 0 (gather and scatter_add then add index[p] * stride of `dim`).
template <class Body>
void for_each_aligned(const Shape& index_shape, const Shape& x_shape, std::int64_t dim, Body&& body) {
  std::vector<std::int64_t> x_strides = contiguous_strides(x_shape);
  x_strides[static_cast<std::size_t>(dim)] = 0;
  const std::int64_t inner = index_shape.back();
  const std::int64_t step = x_strides.back();
  for_each_row<2>(index_shape, {contiguous_strides(index_shape), x_strides},
                  [&](const std::array<std::int64_t, 2>& off) {
                    for (std::int64_t j = 0; j < inner; ++j) body(off[0] + j, off[1] + j * step);
                  });
}

}  // namespace ag::internal
