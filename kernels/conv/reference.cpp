// The reference convolution: plain loops over the definition, one sample, output and tap at a time, with no
// layout, no blocking and no threads. Every other path is tested against it (tests/kernels), and a build
// with LENETGRAD_REFERENCE_KERNELS runs it alone.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/conv/plan.h"

namespace ag::kernels {

namespace {

/// Calls f(c, ki, kj, xi, xj) for each tap of output position (i, j) whose input (xi, xj) lies inside the
/// unpadded input (the others read 0), over the input maps that output map o reads, in tap order.
template <class F>
void for_each_tap(const ConvPlan& plan, std::int64_t o, std::int64_t i, std::int64_t j, F&& f) {
  const ConvGeometry& g = plan.geo;
  for (std::int64_t c = 0; c < g.channels; ++c) {
    if (!plan.reads(o, c)) continue;
    for (std::int64_t ki = 0; ki < g.kh; ++ki) {
      const std::int64_t xi = i * g.stride_h + ki * g.dilation_h - g.pad_h;
      if (xi < 0 || xi >= g.height) continue;
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        const std::int64_t xj = j * g.stride_w + kj * g.dilation_w - g.pad_w;
        if (xj >= 0 && xj < g.width) f(c, ki, kj, xi, xj);
      }
    }
  }
}

}  // namespace

// y[n,o,i,j] = f(bias[o] + sum over the connected c and taps (ki,kj) of w[o,c,ki,kj] x[n,c,i s+ki d-p,j s+kj d-p])
// (s, d, p: each axis's stride, dilation and padding)
template <class T>
void reference_forward(const ConvPlan& plan, const ConvForward<T>& a) {
  const ConvGeometry& g = plan.geo;
  for (std::int64_t n = 0; n < a.batch; ++n)
    for (std::int64_t o = 0; o < plan.outputs; ++o)
      for (std::int64_t i = 0; i < g.out_h; ++i)
        for (std::int64_t j = 0; j < g.out_w; ++j) {
          T sum = a.bias ? a.bias[o] : T(0);
          for_each_tap(plan, o, i, j, [&](auto c, auto ki, auto kj, auto xi, auto xj) {
            sum += a.w[((o * g.channels + c) * g.kh + ki) * g.kw + kj] *
                   a.x[((n * g.channels + c) * g.height + xi) * g.width + xj];
          });
          a.y[((n * plan.outputs + o) * g.out_h + i) * g.out_w + j] = sum;
        }
  activate_in_place(a.activation, a.y, a.batch * plan.out_size());
}

// With G = dL/dz = dL/dy f'(z) (from y):
//   dL/dbias[o] = sum over n,i,j of G[n,o,i,j]
//   dL/dw[o,c,ki,kj] = sum over n,i,j of G[n,o,i,j] x[n,c,i s+ki-p,j s+kj-p]    (0 where unconnected)
//   dL/dx[n,c,xi,xj] = sum over the (o,i,j,ki,kj) that read it of G[n,o,i,j] w[o,c,ki,kj]
template <class T>
void reference_backward(const ConvPlan& plan, const ConvBackward<T>& a) {
  const ConvGeometry& g = plan.geo;
  std::vector<T> gz(a.activation == Activation::none ? 0 : static_cast<std::size_t>(a.batch * plan.out_size()));
  const T* grad = output_gradient(plan, a, 0, a.batch, gz.data());
  if (a.gx) std::fill_n(a.gx, a.batch * plan.in_size(), T(0));
  if (a.gw) std::fill_n(a.gw, plan.outputs * g.taps(), T(0));
  if (a.gb) std::fill_n(a.gb, plan.outputs, T(0));
  for (std::int64_t n = 0; n < a.batch; ++n)
    for (std::int64_t o = 0; o < plan.outputs; ++o)
      for (std::int64_t i = 0; i < g.out_h; ++i)
        for (std::int64_t j = 0; j < g.out_w; ++j) {
          const T go = grad[((n * plan.outputs + o) * g.out_h + i) * g.out_w + j];
          if (a.gb) a.gb[o] += go;
          for_each_tap(plan, o, i, j, [&](auto c, auto ki, auto kj, auto xi, auto xj) {
            const std::int64_t wi = ((o * g.channels + c) * g.kh + ki) * g.kw + kj;
            const std::int64_t xi_flat = ((n * g.channels + c) * g.height + xi) * g.width + xj;
            if (a.gw) a.gw[wi] += go * a.x[xi_flat];
            if (a.gx) a.gx[xi_flat] += go * a.w[wi];
          });
        }
}

template void reference_forward<float>(const ConvPlan&, const ConvForward<float>&);
template void reference_forward<double>(const ConvPlan&, const ConvForward<double>&);
template void reference_backward<float>(const ConvPlan&, const ConvBackward<float>&);
template void reference_backward<double>(const ConvPlan&, const ConvBackward<double>&);

}  // namespace ag::kernels
