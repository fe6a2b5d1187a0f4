#pragma once
/// Numerically stable log-softmax and log-sum-exp along one dimension.
#include "autograd/tensor.h"

namespace ag {

/// Returns log(softmax(x)) along `dim`, same shape; computed as x - max - log(sum(exp(x - max))).
Tensor log_softmax(const Tensor& x, std::int64_t dim);
/// Returns log(sum(exp(x))) along `dim`: shape of x without `dim` (or with it as 1 when keepdim).
Tensor logsumexp(const Tensor& x, std::int64_t dim, bool keepdim = false);

}  // namespace ag
