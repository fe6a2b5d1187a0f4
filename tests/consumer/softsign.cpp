#include "softsign.h"

#include <autograd/custom_op.h>

#include <cmath>

namespace consumer {

// y = x / (1 + |x|).
// dy/dx = ((1 + |x|) - x sign(x)) / (1 + |x|)^2 = 1 / (1 + |x|)^2, since x sign(x) = |x|; continuous at 0,
// where both one-sided derivatives are 1. Shapes: x [S] -> y [S]; dL/dx [S] = dL/dy [S] / (1 + |x|)^2.
ag::Tensor softsign(const ag::Tensor& x) {
  return ag::unary_op(
      "softsign", x,
      [](auto v) { return v / (1 + std::abs(v)); },
      [](auto v) { return 1 / ((1 + std::abs(v)) * (1 + std::abs(v))); });
}

}  // namespace consumer
