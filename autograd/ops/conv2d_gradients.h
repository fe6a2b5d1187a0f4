#pragma once
/// The two gradients of conv2d as ops of their own (PyTorch's torch.nn.grad.conv2d_input and conv2d_weight):
/// conv2d's differentiable rule is written with them, and each one's rule with conv2d and the other, so that
/// gradients through a convolution can be differentiated to any order.
#include "autograd/ops/conv2d.h"
#include "autograd/tensor.h"

namespace ag {

/// Returns dL/dx [N,C,H,W] (x's shape, `input_shape`) of z = conv2d(x, weight, bias, options) from dL/dz
/// `grad_output` [N,O,OH,OW] and weight [O,C,kh,kw]: the convolution transposed. The stride, padding and
/// table of `options` apply; its activation does not (this is the gradient of the convolution before it).
Tensor conv2d_input_gradient(const Tensor& grad_output, const Tensor& weight, const Shape& input_shape,
                             const Conv2dOptions& options = {});

/// Returns dL/dW [O,C,kh,kw] (`weight_shape`) of z = conv2d(x, W, bias, options) from x [N,C,H,W] and dL/dz
/// `grad_output` [N,O,OH,OW], exactly 0 at the pairs the table leaves unconnected; options as above.
Tensor conv2d_weight_gradient(const Tensor& input, const Tensor& grad_output, const Shape& weight_shape,
                              const Conv2dOptions& options = {});

}  // namespace ag
