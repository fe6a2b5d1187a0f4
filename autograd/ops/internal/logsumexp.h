#pragma once
/// Internal to the ops: the row-wise log-sum-exp shared by log_softmax, logsumexp and cross_entropy.
#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>

#include "autograd/ops/internal/axis.h"

namespace ag::internal {

/// Returns log sum_k exp(x[k stride]) for k < n, shifted by the maximum so no exp overflows; -inf for n = 0.
template <class T>
T logsumexp_of(const T* x, std::int64_t n, std::int64_t stride = 1) {
  if (n == 0) return -std::numeric_limits<T>::infinity();  // log of an empty sum; x[0] does not exist
  T m = x[0];
  for (std::int64_t k = 1; k < n; ++k) m = std::max(m, x[k * stride]);
  if (std::isinf(m)) return m;  // all -inf (or a +inf): the shift would make NaN; the answer is m itself
  T total = 0;
  for (std::int64_t k = 0; k < n; ++k) total += std::exp(x[k * stride] - m);
  return m + std::log(total);
}

/// lse[o,i] = log sum_k exp(x[o,k,i]) for the view v of x.
template <class T>
void logsumexp_kernel(const T* x, T* lse, const AxisView& v) {
  for (std::int64_t o = 0; o < v.outer; ++o)
    for (std::int64_t i = 0; i < v.inner; ++i)
      lse[o * v.inner + i] = logsumexp_of(x + o * v.n * v.inner + i, v.n, v.inner);
}

}  // namespace ag::internal
