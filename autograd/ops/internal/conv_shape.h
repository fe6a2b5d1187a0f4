#pragma once
/// Internal to the ops: the kernels' description of a convolution call, shared by conv2d and the two ops
/// that are its gradients (conv2d_gradients.h).
#include "autograd/ops/conv2d.h"
#include "kernels/conv2d.h"

namespace ag::internal {

/// Returns the shape of a call on input [N,C,H,W] and weight [O,C,kh,kw], for its plan (the table's entries
/// are borrowed from `options`, which must outlive the plan's creation).
inline kernels::ConvShape conv_shape(const Shape& x, const Shape& weight, const Conv2dOptions& options) {
  kernels::ConvShape shape{x[1], x[2], x[3], weight[0], weight[2], weight[3], options.stride, options.padding, {}};
  if (options.table) shape.table = options.table->entries();
  return shape;
}

}  // namespace ag::internal
