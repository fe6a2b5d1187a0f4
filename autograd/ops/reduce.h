#pragma once
/// Reductions: sum and mean (over everything, or along one dimension), max along a dimension.
#include "autograd/tensor.h"

namespace ag {

/// Returns the sum of all elements, shape [].
Tensor sum(const Tensor& x);
/// Returns the sums along `dim`: shape of x without `dim` (or with it as 1 when keepdim).
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Returns the mean of all elements, shape [].
Tensor mean(const Tensor& x);
/// Returns the means along `dim`: shape of x without `dim` (or with it as 1 when keepdim).
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Returns the maxima along `dim`; its gradient goes to the first maximal element (the tie rule).
Tensor max(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Returns the int64 index of the first maximal element along `dim` (not differentiable).
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Returns the int64 index of the first minimal element along `dim` (not differentiable).
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim = false);

}  // namespace ag
