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
  return record("rbf", out, {x, centres}, Rules{fast, recorded});
}

}  // namespace ag
