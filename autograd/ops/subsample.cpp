#include "autograd/ops/subsample.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape_ops.h"
#include "autograd/ops/unary.h"
#include "autograd/ops/upsample.h"
#include "autograd/ops/internal/fused_activation.h"
#include "kernels/subsample.h"

namespace ag {

namespace {

void check_arguments(const Tensor& x, const Tensor& coeff, const Tensor& bias, std::int64_t k) {
  if (!x.defined() || !coeff.defined()) fail("subsample", "the input and the coefficients must be defined tensors");
  const auto params = [&] {
    return fmt::format("input {}, coeff {}{}", shape_str(x.shape()), shape_str(coeff.shape()),
                       bias.defined() ? fmt::format(", bias {}", shape_str(bias.shape())) : "");
  };
  if (x.dim() != 4) fail("subsample", "expects input [N,C,H,W], got {}", params());
  const std::int64_t c = x.size(1);
  if (coeff.dim() != 1 || coeff.size(0) != c || (bias.defined() && (bias.dim() != 1 || bias.size(0) != c)))
    fail("subsample", "expects coeff [{}] and bias [{}] for {} input maps, got {}", c, c, c, params());
  if (coeff.dtype() != x.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    fail("subsample", "dtypes differ: input {} {}, coeff {} {}{}", shape_str(x.shape()), dtype_name(x.dtype()),
         shape_str(coeff.shape()), dtype_name(coeff.dtype()),
         bias.defined() ? fmt::format(", bias {} {}", shape_str(bias.shape()), dtype_name(bias.dtype())) : "");
  if (x.dtype() == DType::i64) fail("subsample", "expects float32 or float64 tensors, got int64: {}", params());
  if (k < 1) fail("subsample", "kernel must be at least 1, got {}: input {}", k, shape_str(x.shape()));
  if (x.size(2) % k != 0 || x.size(3) % k != 0)
    fail("subsample", "height {} and width {} must be divisible by the kernel {}: input {}", x.size(2), x.size(3), k,
         shape_str(x.shape()));
}

/// The curvature rule of subsample (Gauss-Newton), for z[n,c,i,j] = coeff[c] s[n,c,i,j] + bias[c] with the window
/// sums s = sum over the k x k window of x, y = f(z), D_z = f'(z)^2 D_y [N,C,H/k,W/k]:
///   D_x [N,C,H,W]: each x in a window gets coeff[c]^2 D_z of its window (one connection per input);
///   D_coeff [C] = sum over n, i, j of D_z s^2: the square of what the coefficient multiplies, the window's
///   sum (not the sum of the squares of its inputs), summed over every connection sharing the coefficient;
///   D_bias [C] = sum over n, i, j of D_z.
std::vector<Tensor> subsample_curvature(const CurvatureInput& at, std::int64_t kernel, Activation activation) {
  const Tensor &x = at.inputs[0], &coeff = at.inputs[1], &bias = at.inputs[2];
  const Tensor dz = internal::activation_curvature(activation, at.curvature, at.saved[0]);
  const std::int64_t maps = x.size(1);
  std::vector<Tensor> diagonals(3);
  if (x.requires_grad()) diagonals[0] = upsample_nearest(mul(dz, reshape(square(coeff), {1, maps, 1, 1})), kernel);
  if (coeff.requires_grad()) {
    const Tensor sums = subsample(x, ones({maps}, x.dtype()), Tensor(), kernel);
    diagonals[1] = sum(sum(sum(mul(dz, square(sums)), 3), 2), 0);
  }
  if (bias.defined() && bias.requires_grad()) diagonals[2] = sum(sum(sum(dz, 3), 2), 0);
  return diagonals;
}

}  // namespace

Tensor subsample(const Tensor& x, const Tensor& coeff, const Tensor& bias, std::int64_t kernel, Activation activation) {
  check_arguments(x, coeff, bias, kernel);
  const kernels::SubsampleShape geo{x.size(1), x.size(2), x.size(3), kernel};
  const std::int64_t batch = x.size(0);
  const Shape out_shape{batch, geo.channels, geo.out_h(), geo.out_w()};
  Tensor out = empty(out_shape, x.dtype());
  // The window sums are what dL/dcoeff needs: kept only when coeff will get a gradient.
  Tensor pooled = records(coeff) ? empty(out_shape, x.dtype()) : Tensor();
  dispatch_floating(x.dtype(), "subsample", [&](auto type) {
    using T = decltype(type);
    kernels::subsample_forward<T>(geo, batch, x.data<T>(), coeff.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                                  internal::kernel_activation(activation), out.mutable_data<T>(),
                                  pooled.defined() ? pooled.mutable_data<T>() : nullptr);
  });
  // With a fused activation f, y = f(z) and first G = dL/dz = dL/dy f'(z), from y. Then, with G = dL/dz:
  // dL/dx [N,C,H,W] = coeff[c] G spread over each window;  dL/dcoeff [C] = sum G s;  dL/dbias [C] = sum G
  if (!records(x, coeff, bias)) return unrecorded(out, "subsample", internal::fused_suffix(activation));
  const internal::FusedActivation fused = internal::fused_activation("subsample", activation, out);
  // The recorded rule, with ops: G from the layer recomputed (with its graph); dL/dx = coeff G upsampled;
  // the window sums s recomputed as sub-sampling with unit coefficients, recorded too.
  const auto recorded = [kernel, activation](const Tensor& gy, const std::vector<Tensor>& in) {
    const Tensor g = activation == Activation::none
                         ? gy
                         : activation_backward(activation, gy, subsample(in[0], in[1], in[2], kernel, activation));
    const std::int64_t maps = in[0].size(1);
    std::vector<Tensor> grads(3);
    if (in[0].requires_grad()) grads[0] = upsample_nearest(mul(g, reshape(in[1], {1, maps, 1, 1})), kernel);
    if (in[1].requires_grad()) {
      const Tensor sums = subsample(in[0], ones({maps}, in[0].dtype()), Tensor(), kernel);
      grads[1] = sum(sum(sum(mul(g, sums), 3), 2), 0);
    }
    if (in[2].defined() && in[2].requires_grad()) grads[2] = sum(sum(sum(g, 3), 2), 0);
    return grads;
  };
  const auto fast = [geo, pooled, activation, y = fused.y](const Tensor& g, const std::vector<Tensor>& in) {
    // The kernel takes G = dL/dy f'(z) chunk by chunk, on the thread that then uses it.
    const bool need_x = in[0].requires_grad(), need_c = in[1].requires_grad();
    const bool need_b = in[2].defined() && in[2].requires_grad();
    Tensor gx = need_x ? empty(in[0].shape(), g.dtype()) : Tensor();
    Tensor gc = need_c ? empty(in[1].shape(), g.dtype()) : Tensor();
    Tensor gb = need_b ? empty(in[2].shape(), g.dtype()) : Tensor();
    dispatch_floating(g.dtype(), "subsample backward", [&](auto type) {
      using T = decltype(type);
      Tensor sums = pooled;
      if (need_c && !sums.defined()) {  // coeff was marked requires_grad after the forward: recompute the sums
        sums = empty(g.shape(), g.dtype());
        const std::vector<T> unit(static_cast<std::size_t>(geo.channels), T(1));
        Tensor scratch = empty(g.shape(), g.dtype());
        kernels::subsample_forward<T>(geo, in[0].size(0), in[0].data<T>(), unit.data(), nullptr,
                                      kernels::Activation::none, scratch.mutable_data<T>(), sums.mutable_data<T>());
      }
      const kernels::SubsampleOutputGradient<T> output{g.data<T>(), y.defined() ? y.data<T>() : nullptr,
                                                       internal::kernel_activation(activation)};
      kernels::subsample_backward<T>(geo, in[0].size(0), output, in[1].data<T>(), need_c ? sums.data<T>() : nullptr,
                                     need_x ? gx.mutable_data<T>() : nullptr, need_c ? gc.mutable_data<T>() : nullptr,
                                     need_b ? gb.mutable_data<T>() : nullptr);
    });
    return std::vector<Tensor>{gx, gc, gb};
  };
  const auto curvature = [kernel, activation](const CurvatureInput& at) {
    return subsample_curvature(at, kernel, activation);
  };
  return record(fused.name, out, {x, coeff, bias}, Rules{fast, recorded, curvature}, {x, coeff, fused.y});
}

}  // namespace ag
