#include "autograd/ops/linear.h"

#include <algorithm>

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape_ops.h"
#include "autograd/ops/internal/block_sink.h"
#include "autograd/ops/internal/fused_activation.h"
#include "kernels/linear.h"

namespace ag {

// y[n,o] = sum_i x[n,i] W[o,i] + b[o]
//   dL/dx = dL/dy W      [N,out] x [out,in]
//   dL/dW = dL/dy^T x    [out,N] x [N,in]
//   dL/db = sum_n dL/dy  [out]
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation activation) {
  if (x.dim() != 2 || weight.dim() != 2 || x.size(1) != weight.size(1))
    fail("linear", "expects x [N,in] and weight [out,in], got x {} and weight {}", shape_str(x.shape()),
         shape_str(weight.shape()));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    fail("linear", "bias {} does not match weight {}: expected [{}]", shape_str(bias.shape()),
         shape_str(weight.shape()), weight.size(0));
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    fail("linear", "dtypes differ: x {}, weight {}", dtype_name(x.dtype()), dtype_name(weight.dtype()));
  const std::int64_t n = x.size(0), in = x.size(1), out_features = weight.size(0);
  Tensor out = empty({n, out_features}, x.dtype());
  dispatch_floating(x.dtype(), "linear", [&](auto type) {
    using T = decltype(type);
    kernels::linear_forward<T>(n, out_features, in, x.data<T>(), weight.data<T>(),
                               bias.defined() ? bias.data<T>() : nullptr, internal::kernel_activation(activation),
                               out.mutable_data<T>());
  });
  if (!records(x, weight, bias)) return unrecorded(out, "linear", internal::fused_suffix(activation));
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  // With a fused activation f, y = f(z): the rules below take dL/dz = dL/dy f'(z), computed from y first.
  const internal::FusedActivation fused = internal::fused_activation("linear", activation, out);
  // The recorded rule, with ops: G from the layer recomputed (with its graph), then dL/dx = G W,
  // dL/dW = G^T x, dL/db = sum_n G.
  const auto recorded = [activation](const Tensor& gy, const std::vector<Tensor>& in) {
    const Tensor bias_in = in.size() == 3 ? in[2] : Tensor();
    const Tensor g = activation == Activation::none
                         ? gy
                         : activation_backward(activation, gy, linear(in[0], in[1], bias_in, activation));
    std::vector<Tensor> grads(in.size());
    if (in[0].requires_grad()) grads[0] = matmul(g, in[1]);
    if (in[1].requires_grad()) grads[1] = matmul(transpose(g, 0, 1), in[0]);
    if (bias_in.defined() && bias_in.requires_grad()) grads[2] = sum(g, 0);
    return grads;
  };
  const auto fast = [activation, y = fused.y](const Tensor& gy, const std::vector<Tensor>& in) {
    const Tensor g = internal::activation_input_gradient("linear backward", activation, gy, y);
    std::vector<Tensor> grads(in.size());
    const std::int64_t n = g.size(0), out_features = g.size(1), features = in[0].size(1);
    const bool need_x = in[0].requires_grad(), need_w = in[1].requires_grad();
    const bool need_b = in.size() == 3 && in[2].requires_grad();
    // dL/dW is computed in blocks of rows: they go straight to W's consumer when backward allows it.
    const GradientBlocks w_blocks = need_w ? gradient_blocks(in[1]) : GradientBlocks();
    const kernels::BlockSink w_sink = internal::block_sink(w_blocks);
    if (need_x) grads[0] = empty(in[0].shape(), g.dtype());
    if (need_w && !w_blocks) grads[1] = empty(in[1].shape(), g.dtype());
    if (need_b) grads[2] = empty(in[2].shape(), g.dtype());
    dispatch_floating(g.dtype(), "linear backward", [&](auto type) {
      using T = decltype(type);
      kernels::linear_backward<T>(n, out_features, features, in[0].data<T>(), in[1].data<T>(), g.data<T>(),
                                  need_x ? grads[0].mutable_data<T>() : nullptr,
                                  grads[1].defined() ? grads[1].mutable_data<T>() : nullptr,
                                  need_b ? grads[2].mutable_data<T>() : nullptr, w_blocks ? &w_sink : nullptr);
    });
    return grads;
  };
  // Curvature (Gauss-Newton): with D_z = f'(z)^2 D_y [N,out]: D_x = D_z W^2 [N,in];  D_W = D_z^T x^2 [out,in];
  // D_b = sum_n D_z [out]; the backward rule computes exactly these from squared inputs.
  const auto curvature = [activation](const CurvatureInput& at) {
    return internal::bilinear_curvature(at, activation);
  };
  return record(fused.name, out, std::move(inputs), Rules{fast, recorded, curvature}, {x, weight, fused.y});
}

}  // namespace ag
