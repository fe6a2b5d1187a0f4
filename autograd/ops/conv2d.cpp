#include "autograd/ops/conv2d.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/conv2d_gradients.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/internal/block_sink.h"
#include "autograd/ops/internal/conv_shape.h"
#include "autograd/ops/internal/fused_activation.h"
#include "kernels/conv2d.h"

namespace ag {

ConnectionTable::ConnectionTable(std::int64_t outputs, std::int64_t inputs, std::vector<std::uint8_t> entries)
    : outputs_(outputs), inputs_(inputs), entries_(std::move(entries)) {
  if (outputs < 1 || inputs < 1) fail("ConnectionTable", "sizes must be at least 1, got {}x{}", outputs, inputs);
  if (static_cast<std::int64_t>(entries_.size()) != outputs * inputs)
    fail("ConnectionTable", "{} entries for a {}x{} table, which needs {}", entries_.size(), outputs, inputs,
         outputs * inputs);
  for (std::int64_t o = 0; o < outputs; ++o)
    for (std::int64_t c = 0; c < inputs; ++c)
      if (const auto e = entries_[static_cast<std::size_t>(o * inputs + c)]; e > 1)
        fail("ConnectionTable", "entry [{},{}] of the {}x{} table is {}; entries must be 0 or 1", o, c, outputs, inputs,
             e);
  for (std::int64_t o = 0; o < outputs; ++o) {
    bool any = false;
    for (std::int64_t c = 0; c < inputs; ++c) any = any || connected(o, c);
    if (!any) fail("ConnectionTable", "output map {} reads no input map in the {}x{} table", o, outputs, inputs);
  }
}

std::int64_t ConnectionTable::count() const { return std::count(entries_.begin(), entries_.end(), std::uint8_t{1}); }

std::string ConnectionTable::size_str() const { return fmt::format("{}x{}", outputs_, inputs_); }

namespace {

std::string shapes(const Tensor& x, const Tensor& weight) {
  return fmt::format("input {}, weight {}", shape_str(x.shape()), shape_str(weight.shape()));
}

void check_arguments(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  if (!x.defined() || !weight.defined()) fail("conv2d", "the input and the weight must be defined tensors");
  if (x.dim() != 4 || weight.dim() != 4)
    fail("conv2d", "expects input [N,C,H,W] and weight [O,C,kh,kw], got {}", shapes(x, weight));
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    fail("conv2d", "dtypes differ: input {} {}, weight {} {}{}", shape_str(x.shape()), dtype_name(x.dtype()),
         shape_str(weight.shape()), dtype_name(weight.dtype()),
         bias.defined() ? fmt::format(", bias {} {}", shape_str(bias.shape()), dtype_name(bias.dtype())) : "");
  if (x.dtype() == DType::i64) fail("conv2d", "expects float32 or float64 tensors, got int64: {}", shapes(x, weight));
  const Shape& w = weight.shape();
  if (std::find(w.begin(), w.end(), 0) != w.end()) fail("conv2d", "weight {} has an empty dimension", shape_str(w));
  if (x.size(1) != w[1])
    fail("conv2d", "input has {} channels but weight expects {}: {}", x.size(1), w[1], shapes(x, weight));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != w[0]))
    fail("conv2d", "bias {} does not match weight {}: expects [{}]", shape_str(bias.shape()), shape_str(w), w[0]);
  if (options.stride.min() < 1)
    fail("conv2d", "stride must be at least 1, got {}: {}", options.stride.str(), shapes(x, weight));
  if (options.padding.min() < 0)
    fail("conv2d", "padding must be at least 0, got {}: {}", options.padding.str(), shapes(x, weight));
  if (options.dilation.min() < 1)
    fail("conv2d", "dilation must be at least 1, got {}: {}", options.dilation.str(), shapes(x, weight));
  const std::int64_t ph = x.size(2) + 2 * options.padding.h, pw = x.size(3) + 2 * options.padding.w;
  // The span of a dilated kernel: d (k - 1) + 1 input positions.
  const std::int64_t span_h = options.dilation.h * (w[2] - 1) + 1, span_w = options.dilation.w * (w[3] - 1) + 1;
  if (span_h > ph || span_w > pw)
    fail("conv2d", "kernel {}x{} {}is larger than the padded input {}x{} (padding {}): {}", w[2], w[3],
         options.dilation == Size2(1) ? "" : fmt::format("(spanning {}x{} at dilation {}) ", span_h, span_w,
                                                          options.dilation.str()),
         ph, pw, options.padding.str(), shapes(x, weight));
  if (options.table && (options.table->outputs() != w[0] || options.table->inputs() != w[1]))
    fail("conv2d", "connection table is {} but weight {} needs {}x{}", options.table->size_str(), shape_str(w), w[0],
         w[1]);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  check_arguments(x, weight, bias, options);
  const std::int64_t batch = x.size(0);
  const std::int64_t out_h = internal::conv_output_size(x.size(2), weight.size(2), options.stride.h,
                                                        options.padding.h, options.dilation.h);
  const std::int64_t out_w = internal::conv_output_size(x.size(3), weight.size(3), options.stride.w,
                                                        options.padding.w, options.dilation.w);
  std::shared_ptr<const kernels::ConvPlan> plan =
      kernels::conv_plan(internal::conv_shape(x.shape(), weight.shape(), options));
  Tensor out = empty({batch, weight.size(0), out_h, out_w}, x.dtype());
  const kernels::Activation activation = internal::kernel_activation(options.activation);
  dispatch_floating(x.dtype(), "conv2d", [&](auto type) {
    using T = decltype(type);
    kernels::conv2d_forward<T>(*plan, {batch, x.data<T>(), weight.data<T>(),
                                       bias.defined() ? bias.data<T>() : nullptr, activation, out.mutable_data<T>()});
  });
  // With an activation f, y = f(z) for the convolution z, and first G = dL/dz = dL/dy f'(z), from y.
  // Then, with G = dL/dz [N,O,OH,OW] and col = im2col(x):
  // dL/dx [N,C,H,W] = col2im(W^T G);  dL/dW [O,C,kh,kw] = sum_n G col^T (0 where unconnected);
  // dL/dbias [O] = sum over n, i, j of G
  if (!records(x, weight, bias)) return unrecorded(out, "conv2d", internal::fused_suffix(options.activation));
  const internal::FusedActivation fused = internal::fused_activation("conv2d", options.activation, out);
  // The recorded rule: G from the convolution recomputed (with its graph), then the two gradient ops. It holds the
  // options through a shared pointer: GCC 12 (-O3) warned that the copy of their optional table that a capture by
  // value makes inside std::function "may be used uninitialized", failing the -Werror build.
  const auto recorded = [shared = std::make_shared<const Conv2dOptions>(options)](const Tensor& gy,
                                                                                  const std::vector<Tensor>& in) {
    const Conv2dOptions& options = *shared;
    const Tensor g = options.activation == Activation::none
                         ? gy
                         : activation_backward(options.activation, gy, conv2d(in[0], in[1], in[2], options));
    std::vector<Tensor> grads(3);
    if (in[0].requires_grad()) grads[0] = conv2d_input_gradient(g, in[1], in[0].shape(), options);
    if (in[1].requires_grad()) grads[1] = conv2d_weight_gradient(in[0], g, in[1].shape(), options);
    if (in[2].defined() && in[2].requires_grad()) grads[2] = sum(sum(sum(g, 3), 2), 0);
    return grads;
  };
  const auto fast = [plan, activation, y = fused.y](const Tensor& g, const std::vector<Tensor>& in) {
    const bool need_x = in[0].requires_grad(), need_w = in[1].requires_grad();
    const bool need_b = in[2].defined() && in[2].requires_grad();
    Tensor gx = need_x ? empty(in[0].shape(), g.dtype()) : Tensor();
    Tensor gb = need_b ? empty(in[2].shape(), g.dtype()) : Tensor();
    Tensor gw;
    dispatch_floating(g.dtype(), "conv2d backward", [&](auto type) {
      using T = decltype(type);
      // A plan that computes dL/dW in blocks of rows sends them straight to W's consumer when backward allows.
      const bool in_blocks = need_w && kernels::weight_gradient_in_blocks<T>(*plan);
      const GradientBlocks w_blocks = in_blocks ? gradient_blocks(in[1]) : GradientBlocks();
      const kernels::BlockSink w_sink = internal::block_sink(w_blocks);
      if (need_w && !w_blocks) gw = empty(in[1].shape(), g.dtype());
      kernels::conv2d_backward<T>(*plan, {in[0].size(0), in[0].data<T>(), in[1].data<T>(), g.data<T>(),
                                          y.defined() ? y.data<T>() : nullptr, activation,
                                          need_x ? gx.mutable_data<T>() : nullptr,
                                          gw.defined() ? gw.mutable_data<T>() : nullptr,
                                          need_b ? gb.mutable_data<T>() : nullptr, w_blocks ? &w_sink : nullptr});
    });
    return std::vector<Tensor>{gx, gw, gb};
  };
  // Curvature (Gauss-Newton, LeCun et al. 1998 Appendix C): with D_z = f'(z)^2 D_y [N,O,OH,OW],
  // D_x [N,C,H,W] = col2im(W^2 applied transposed to D_z);  D_W [O,C,kh,kw] = sum over n and positions of D_z x^2
  // (the sum over every connection that shares the weight; 0 where the table has no connection);
  // D_bias [O] = sum of D_z. The backward rule computes exactly these from squared inputs.
  const auto curvature = [activation = options.activation](const CurvatureInput& at) {
    return internal::bilinear_curvature(at, activation);
  };
  return record(fused.name, out, {x, weight, bias}, Rules{fast, recorded, curvature}, {x, weight, fused.y});
}

}  // namespace ag
