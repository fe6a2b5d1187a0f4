#pragma once
/// Elementwise maths: exp, log, pow, square, sqrt. Each returns a tensor of its input's shape.
#include "autograd/tensor.h"

namespace ag {

/// Returns e^x, same shape.
Tensor exp(const Tensor& x);
/// Returns the natural log of x, same shape (x > 0 for a finite result).
Tensor log(const Tensor& x);
/// Returns x^p for a constant exponent p, same shape.
Tensor pow(const Tensor& x, double p);
/// Returns x^2, same shape.
Tensor square(const Tensor& x);
/// Returns the square root of x, same shape.
Tensor sqrt(const Tensor& x);

}  // namespace ag
