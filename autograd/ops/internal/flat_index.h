#pragma once
/// Internal to the ops: reading and writing a tensor's elements at flat positions, the two linear maps that
/// are each other's transpose. The differentiable rules of the ops that route a gradient to chosen elements
/// (pick, max, max_pool2d) are a scatter; a scatter's rule is a gather and a gather's a scatter, so that
/// gradients of those rules can be taken again, to any order.
#include "autograd/tensor.h"

namespace ag::internal {

/// Returns y [index's shape] with y[k] = x.flat[index[k]]: index int64, each within 0..x.numel()-1 (the
/// callers compute them). Recorded as "gather_flat"; dL/dx = scatter of dL/dy to the same positions.
Tensor gather_flat(const Tensor& x, const Tensor& index);

/// Returns y [shape], zero but for y.flat[index[k]] += g[k] (summed where positions repeat): g of index's
/// shape, index int64 within 0..numel(shape)-1. Recorded as "scatter_flat"; dL/dg = gather of dL/dy.
Tensor scatter_flat(const Tensor& g, const Tensor& index, const Shape& shape);

}  // namespace ag::internal
