#pragma once
/// Slicing along one dimension: slice (start, end, step), narrow (start, length), select (one index, removing
/// the dimension), and unslice, which puts a slice back into zeros: each one's gradient is the other. Each
/// returns a copy; any dtype, int64 included. Negative start, end and index count from the end; after that a
/// range must fit, 0 <= start <= end <= n, step >= 1 (it is an error, not clamped as Python's slices are).
#include <cstdint>

#include "autograd/tensor.h"

namespace ag {

/// Returns x's entries start, start+step, ... (< end) along dim: [.., n, ..] -> [.., ceil((end-start)/step), ..].
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1);

/// Returns x's `length` entries from `start` along dim: [.., n, ..] -> [.., length, ..].
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);

/// Returns x's entry `index` along dim, that dimension removed: [.., n, ..] -> [.., ..].
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);

/// Returns zeros of `shape` with src at the entries slice(dim, start, end, step) reads: [.., m, ..] -> shape.
Tensor unslice(const Tensor& src, const Shape& shape, std::int64_t dim, std::int64_t start, std::int64_t end,
               std::int64_t step = 1);

}  // namespace ag
