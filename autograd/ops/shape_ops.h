#pragma once
/// Shape ops: reshape and flatten (views sharing values), transpose and permute (copies), dtype conversion.
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace ag {

/// Returns x with a new shape of the same element count (one entry may be -1: inferred); shares values.
Tensor reshape(const Tensor& x, const Shape& shape);
/// Returns x with dimensions start_dim..end_dim merged into one, e.g. [N,C,H,W] -> [N,C*H*W] for (1, -1).
Tensor flatten(const Tensor& x, std::int64_t start_dim = 1, std::int64_t end_dim = -1);
/// Returns x with dimensions d0 and d1 swapped (a contiguous copy).
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1);
/// Returns x with its dimensions reordered (a copy): y.shape[k] = x.shape[dims[k]], e.g. {0,3,1,2}: NHWC -> NCHW.
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims);
/// Returns x converted to `dtype` (float32 <-> float64), same shape; gradients convert back.
Tensor to_dtype(const Tensor& x, DType dtype);

}  // namespace ag
