#pragma once
/// Broadcasting as ops: expand repeats a tensor to a larger shape, sum_to undoes it. Each is the
/// other's gradient; every binary op reduces its broadcast gradients with sum_to, in this one place.
#include "autograd/tensor.h"

namespace ag {

/// Returns x repeated to `shape` (NumPy broadcasting rules); x's shape must broadcast to `shape`.
Tensor expand(const Tensor& x, const Shape& shape);

/// Returns x summed down to `shape`, over the dimensions that broadcasting to x.shape() would add or
/// stretch: the inverse of expand. Returns x itself when the shapes already agree.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace ag
