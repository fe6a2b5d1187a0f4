#include "autograd/ops/conv2d_gradients.h"

#include <fmt/format.h>

#include <vector>

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/conv_shape.h"
#include "kernels/conv2d.h"

namespace ag {

namespace {

/// The options of the convolution alone, for the forward convolutions in the rules below.
Conv2dOptions without_activation(Conv2dOptions options) {
  options.activation = Activation::none;
  return options;
}

/// The curvature rule of both ops below, each bilinear in its two inputs with single-entry Jacobians.
std::vector<Tensor> bilinear_rule(const CurvatureInput& at) {
  return internal::bilinear_curvature(at, Activation::none);
}

/// Checks that conv2d(x [input_shape], W [weight_shape], options) is a valid call whose output has
/// grad_output's shape, and that the tensors share one floating dtype; throws naming `op` and the shapes.
void check_call(const char* op, const Shape& input_shape, const Shape& weight_shape, const Tensor& grad_output,
                const Tensor& other, const Conv2dOptions& options) {
  const auto shapes = [&] {
    return fmt::format("input {}, weight {}, grad_output {}", shape_str(input_shape), shape_str(weight_shape),
                       shape_str(grad_output.shape()));
  };
  if (!grad_output.defined() || !other.defined()) fail(op, "its tensors must be defined");
  if (grad_output.dtype() != other.dtype() || grad_output.dtype() == DType::i64)
    fail(op, "expects float32 or float64 tensors of one dtype, got {} and {}: {}", dtype_name(grad_output.dtype()),
         dtype_name(other.dtype()), shapes());
  if (input_shape.size() != 4 || weight_shape.size() != 4 || grad_output.dim() != 4)
    fail(op, "expects 4-dimensional shapes: {}", shapes());
  // The forward's own checks (channels, kernel size, table), on tensors of the shapes that hold no values.
  const Size2 &s = options.stride, &p = options.padding, &d = options.dilation;
  if (s.min() < 1 || p.min() < 0 || d.min() < 1 || input_shape[1] != weight_shape[1] ||
      grad_output.shape() != Shape{input_shape[0], weight_shape[0],
                                   internal::conv_output_size(input_shape[2], weight_shape[2], s.h, p.h, d.h),
                                   internal::conv_output_size(input_shape[3], weight_shape[3], s.w, p.w, d.w)})
    fail(op, "grad_output is not the shape of conv2d's output (stride {}, padding {}, dilation {}): {}", s.str(),
         p.str(), d.str(), shapes());
  if (options.table && (options.table->outputs() != weight_shape[0] || options.table->inputs() != weight_shape[1]))
    fail(op, "connection table is {} but the weight is {}", options.table->size_str(), shape_str(weight_shape));
}

}  // namespace

// dL/dx = the convolution transposed, from G = dL/dz and W. It is bilinear in (G, W): with U = dL/d(dL/dx),
// <dL/dx, U> = <conv2d(U, W), G>, so dL/dG = conv2d(U, W) and dL/dW = conv2d_weight_gradient(U, G).
// Curvature, D [N,C,H,W] of dL/dx's shape: each entry of the Jacobian with respect to G (to W) is one weight
// (one entry of G): the pair (output, input) fixes the kernel position. So D_G[n,o,i,j] = sum D[n,c,a,b]
// W[o,c,p,q]^2 = conv2d(D, W^2) and D_W = conv2d_weight_gradient(D, G^2): the backward rule with both inputs
// squared (internal::bilinear_curvature); a connection table's zeros stay zero.
Tensor conv2d_input_gradient(const Tensor& grad_output, const Tensor& weight, const Shape& input_shape,
                             const Conv2dOptions& options) {
  check_call("conv2d_input_gradient", input_shape, weight.shape(), grad_output, weight, options);
  const auto plan = kernels::conv_plan(internal::conv_shape(input_shape, weight.shape(), options));
  Tensor gx = empty(input_shape, grad_output.dtype());
  dispatch_floating(gx.dtype(), "conv2d_input_gradient", [&](auto type) {
    using T = decltype(type);
    kernels::conv2d_backward<T>(*plan, {input_shape[0], nullptr, weight.data<T>(), grad_output.data<T>(), nullptr,
                                        kernels::Activation::none, gx.mutable_data<T>(), nullptr, nullptr, nullptr});
  });
  return record("conv2d_input_gradient", gx, {grad_output, weight},
                with_curvature(composed([options](const Tensor& u, const std::vector<Tensor>& in) {
    const Tensor gg = in[0].requires_grad() ? conv2d(u, in[1], Tensor(), without_activation(options)) : Tensor();
    const Tensor gw = in[1].requires_grad() ? conv2d_weight_gradient(u, in[0], in[1].shape(), options) : Tensor();
    return std::vector<Tensor>{gg, gw};
  }), bilinear_rule));
}

// dL/dW from x and G = dL/dz, bilinear in (x, G): with V = dL/d(dL/dW), <dL/dW, V> = <conv2d(x, V), G> (V's
// unconnected entries read by neither side), so dL/dx = conv2d_input_gradient(G, V) and dL/dG = conv2d(x, V).
// Curvature, D [O,C,kh,kw] of dL/dW's shape: as above, each Jacobian entry is one element of G (of x), so
// D_x = conv2d_input_gradient(G^2, D) and D_G = conv2d(x^2, D): the backward rule with both inputs squared.
Tensor conv2d_weight_gradient(const Tensor& input, const Tensor& grad_output, const Shape& weight_shape,
                              const Conv2dOptions& options) {
  check_call("conv2d_weight_gradient", input.shape(), weight_shape, grad_output, input, options);
  const auto plan = kernels::conv_plan(internal::conv_shape(input.shape(), weight_shape, options));
  Tensor gw = empty(weight_shape, grad_output.dtype());
  dispatch_floating(gw.dtype(), "conv2d_weight_gradient", [&](auto type) {
    using T = decltype(type);
    kernels::conv2d_backward<T>(*plan, {input.size(0), input.data<T>(), nullptr, grad_output.data<T>(), nullptr,
                                        kernels::Activation::none, nullptr, gw.mutable_data<T>(), nullptr, nullptr});
  });
  return record("conv2d_weight_gradient", gw, {input, grad_output},
                with_curvature(composed([options](const Tensor& v, const std::vector<Tensor>& in) {
    const Tensor gx = in[0].requires_grad() ? conv2d_input_gradient(in[1], v, in[0].shape(), options) : Tensor();
    const Tensor gg = in[1].requires_grad() ? conv2d(in[0], v, Tensor(), without_activation(options)) : Tensor();
    return std::vector<Tensor>{gx, gg};
  }), bilinear_rule));
}

}  // namespace ag
