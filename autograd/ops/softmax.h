#pragma once
/// Numerically stable softmax, log-softmax and log-sum-exp along one dimension.
#include "autograd/tensor.h"

namespace ag {

/// Returns e^x / sum(e^x) along `dim`, same shape; computed as e^(x - max) / sum(e^(x - max)), so large x is safe.
Tensor softmax(const Tensor& x, std::int64_t dim);
/// Returns log(softmax(x)) along `dim`, same shape; computed as x - max - log(sum(exp(x - max))).
Tensor log_softmax(const Tensor& x, std::int64_t dim);
/// Returns log(sum(exp(x))) along `dim`: shape of x without `dim` (or with it as 1 when keepdim).
Tensor logsumexp(const Tensor& x, std::int64_t dim, bool keepdim = false);

}  // namespace ag
