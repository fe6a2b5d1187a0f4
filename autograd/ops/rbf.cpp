#include "autograd/ops/rbf.h"

#include <algorithm>

#include "autograd/graph.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape_ops.h"
#include "kernels/rbf.h"

namespace ag {

namespace {

void check_arguments(const Tensor& x, const Tensor& centres) {
  if (!x.defined() || !centres.defined()) fail("rbf", "the input and the centres must be defined tensors");
  if (x.dim() != 2 || centres.dim() != 2)
    fail("rbf", "expects x [N,D] and centres [K,D], got x {}, centres {}", shape_str(x.shape()),
         shape_str(centres.shape()));
  if (x.size(1) != centres.size(1))
    fail("rbf", "x has {} features but the centres have {}: x {}, centres {}", x.size(1), centres.size(1),
         shape_str(x.shape()), shape_str(centres.shape()));
  if (x.dtype() != centres.dtype())
    fail("rbf", "dtypes differ: x {} {}, centres {} {}", shape_str(x.shape()), dtype_name(x.dtype()),
         shape_str(centres.shape()), dtype_name(centres.dtype()));
  if (x.dtype() == DType::i64)
    fail("rbf", "expects float32 or float64 tensors, got int64: x {}, centres {}", shape_str(x.shape()),
         shape_str(centres.shape()));
}

/// The curvature rule of y[n,i] = sum_j (x[n,j] - w[i,j])^2 for D = diag d2L/dy2 and G = dL/dy [N,K]:
///   D_x[n,j] = sum_i ( 4 (x[n,j] - w[i,j])^2 D[n,i] + 2 G[n,i] ),
///   D_w[i,j] = sum_n ( 4 (x[n,j] - w[i,j])^2 D[n,i] + 2 G[n,i] ).
/// The first term is Gauss-Newton's (dy/dx)^2 D. The second is the RBF's own second derivative d2y/dx2 = 2,
/// exact, times dL/dy: unlike a squashing function's, it is kept, because the RBF is the quadratic end of the
/// paper's loss: with the MLE loss (E = mean y_correct, linear in y) the Gauss-Newton term alone is zero, and
/// the kept term makes the diagonal with respect to x the exact d2E/dx2 = 2/N. It can be negative for the
/// centres (MAP's dL/dy is negative off the target) but not for x (the G of a row sums to >= 0 for both losses).
std::vector<Tensor> rbf_curvature(const CurvatureInput& at) {
  const Tensor &x = at.inputs[0], &w = at.inputs[1];
  const bool need_x = x.requires_grad(), need_w = w.requires_grad();
  Tensor dx = need_x ? zeros_like(x) : Tensor();
  Tensor dw = need_w ? zeros_like(w) : Tensor();
  dispatch_floating(x.dtype(), "rbf curvature", [&](auto type) {
    using T = decltype(type);
    const std::int64_t batch = x.size(0), units = w.size(0), features = x.size(1);
    const T *px = x.data<T>(), *pw = w.data<T>(), *pd = at.curvature.data<T>(), *pg = at.gradient.data<T>();
    for (std::int64_t n = 0; n < batch; ++n)
      for (std::int64_t i = 0; i < units; ++i)
        for (std::int64_t j = 0; j < features; ++j) {
          const T diff = px[n * features + j] - pw[i * features + j];
          const T term = 4 * diff * diff * pd[n * units + i] + 2 * pg[n * units + i];
          if (need_x) dx.mutable_data<T>()[n * features + j] += term;
          if (need_w) dw.mutable_data<T>()[i * features + j] += term;
        }
  });
  return {dx, dw};
}

}  // namespace

Tensor rbf(const Tensor& x, const Tensor& centres) {
  check_arguments(x, centres);
  const std::int64_t batch = x.size(0), units = centres.size(0), d = x.size(1);
  Tensor out = empty({batch, units}, x.dtype());
  dispatch_floating(x.dtype(), "rbf", [&](auto type) {
    using T = decltype(type);
    kernels::rbf_forward<T>(batch, units, d, x.data<T>(), centres.data<T>(), out.mutable_data<T>());
  });
  if (!records(x, centres)) return unrecorded(out, "rbf");
  // dL/dx [N,D] = sum_i 2 G[n,i] (x[n,:] - w[i,:]);  dL/dw [K,D] = -sum_n 2 G[n,i] (x[n,:] - w[i,:])
  // The recorded rule, with ops: dL/dx = 2 (x rowsum(G) - G w);  dL/dw = 2 (w colsum(G)^T - G^T x).
  const auto recorded = [](const Tensor& g, const std::vector<Tensor>& in) {
    const Tensor &x_in = in[0], &w = in[1];
    Tensor gx, gw;
    if (x_in.requires_grad()) gx = mul(sub(mul(x_in, sum(g, 1, true)), matmul(g, w)), 2.0);
    if (w.requires_grad()) gw = mul(sub(mul(w, reshape(sum(g, 0), {w.size(0), 1})), matmul(transpose(g, 0, 1), x_in)), 2.0);
    return std::vector<Tensor>{gx, gw};
  };
  const auto fast = [](const Tensor& g, const std::vector<Tensor>& in) {
    const bool need_x = in[0].requires_grad(), need_w = in[1].requires_grad();
    Tensor gx = need_x ? empty(in[0].shape(), g.dtype()) : Tensor();
    Tensor gw = need_w ? empty(in[1].shape(), g.dtype()) : Tensor();
    dispatch_floating(g.dtype(), "rbf backward", [&](auto type) {
      using T = decltype(type);
      kernels::rbf_backward<T>(in[0].size(0), in[1].size(0), in[0].size(1), in[0].data<T>(), in[1].data<T>(), g.data<T>(),
                      need_x ? gx.mutable_data<T>() : nullptr, need_w ? gw.mutable_data<T>() : nullptr);
    });
    return std::vector<Tensor>{gx, gw};
  };
  return record("rbf", out, {x, centres}, Rules{fast, recorded, rbf_curvature});
}

}  // namespace ag
