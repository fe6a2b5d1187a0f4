#pragma once
/// Internal: the row-wise log-sum-exp shared by log_softmax, logsumexp and cross_entropy.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "autograd/detail/axis.h"

namespace ag::detail {

/// lse[o,i] = log sum_k exp(x[o,k,i]), shifted by the maximum so no exp overflows.
template <class T>
void logsumexp_kernel(const T* x, T* lse, const AxisView& v) {
  for (std::int64_t o = 0; o < v.outer; ++o)
    for (std::int64_t i = 0; i < v.inner; ++i) {
      const T* base = x + o * v.n * v.inner + i;
      T m = base[0];
      for (std::int64_t k = 1; k < v.n; ++k) m = std::max(m, base[k * v.inner]);
      if (std::isinf(m)) {  // all -inf (or a +inf): the shift would make NaN; the answer is m itself
        lse[o * v.inner + i] = m;
        continue;
      }
      T total = 0;
      for (std::int64_t k = 0; k < v.n; ++k) total += std::exp(base[k * v.inner] - m);
      lse[o * v.inner + i] = m + std::log(total);
    }
}

}  // namespace ag::detail
