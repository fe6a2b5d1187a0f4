#pragma once
// An op defined outside the library: softsign, a smooth squashing function.
#include <autograd/tensor.h>

namespace consumer {

/// Returns x / (1 + |x|) elementwise: any shape, float32 or float64; differentiable.
ag::Tensor softsign(const ag::Tensor& x);

}  // namespace consumer
