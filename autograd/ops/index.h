#pragma once
/// Indexing: one element per row, by an int64 index tensor (the correct class of each sample).
#include "autograd/tensor.h"

namespace ag {

/// Returns y[n] = x[n, index[n]]: x [N,C], index int64 [N] with values in 0..C-1 -> y [N].
Tensor pick(const Tensor& x, const Tensor& index);

}  // namespace ag
