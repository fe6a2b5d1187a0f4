#pragma once
/// Joining tensors along one dimension: cat (along an existing dimension) and stack (along a new one). The
/// tensors share one dtype (any, int64 included); the result is a copy.
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace ag {

/// Returns the tensors one after another along dim: each [.., n_i, ..], equal elsewhere -> [.., sum_i n_i, ..].
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim);

/// Returns the tensors along a new dimension dim (-r-1..r): K tensors of one shape [r dims] -> [.., K (at dim), ..].
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim);

}  // namespace ag
