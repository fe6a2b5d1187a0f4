#pragma once
/// Indexing by int64 index tensors along one dimension: index_select picks whole entries, gather picks one
/// per element; index_add and scatter_add add values back at such indices, and each pair are the other's
/// gradient. Any dtype for x, int64 included; index values must be in 0..n-1 (n = x's size along dim), and
/// may repeat: index_add and scatter_add then sum. The index of gather and scatter_add has x's rank and is no
/// larger than x along every dimension but dim (as in PyTorch).
#include <cstdint>

#include "autograd/tensor.h"

namespace ag {

/// Returns x's entries index[0], index[1], ... along dim: x [.., n, ..], index int64 [K] -> [.., K, ..].
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);

/// Returns x with source's entry k added to entry index[k] along dim: x [.., n, ..], index [K], source [.., K, ..].
Tensor index_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& source);

/// Returns y[p] = x[p, its coordinate along dim replaced by index[p]]: index int64 of x's rank -> index's shape.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);

/// Returns x with src[p] added at x[p, its coordinate along dim replaced by index[p]]: index, src one shape -> x's.
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);

}  // namespace ag
