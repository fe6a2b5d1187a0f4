#include "autograd/ops/linear.h"

#include "autograd/detail/gemm.h"
#include "autograd/graph.h"

namespace ag {

// y[n,o] = sum_i x[n,i] W[o,i] + b[o]
//   dL/dx = dL/dy W      [N,out] x [out,in]
//   dL/dW = dL/dy^T x    [out,N] x [N,in]
//   dL/db = sum_n dL/dy  [out]
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (x.dim() != 2 || weight.dim() != 2 || x.size(1) != weight.size(1))
    fail("linear", "expects x [N,in] and weight [out,in], got x {} and weight {}", shape_str(x.shape()),
         shape_str(weight.shape()));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    fail("linear", "bias {} does not match weight {}: expected [{}]", shape_str(bias.shape()), shape_str(weight.shape()),
         weight.size(0));
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    fail("linear", "dtypes differ: x {}, weight {}", dtype_name(x.dtype()), dtype_name(weight.dtype()));
  const std::int64_t n = x.size(0), in = x.size(1), out_features = weight.size(0);
  Tensor out = empty({n, out_features}, x.dtype());
  dispatch_floating(x.dtype(), "linear", [&](auto type) {
    using T = decltype(type);
    thread_local std::vector<T> scratch;
    detail::gemm_nt<T>(n, out_features, in, x.data<T>(), weight.data<T>(), out.data<T>(), false, scratch);
    if (bias.defined()) {
      const T* b = bias.data<T>();
      T* o = out.data<T>();
      for (std::int64_t r = 0; r < n; ++r)
        for (std::int64_t c = 0; c < out_features; ++c) o[r * out_features + c] += b[c];
    }
  });
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return record("linear", out, std::move(inputs), [](const Tensor& g, const std::vector<Tensor>& in) {
    std::vector<Tensor> grads(in.size());
    const std::int64_t n = g.size(0), out_features = g.size(1), features = in[0].size(1);
    dispatch_floating(g.dtype(), "linear backward", [&](auto type) {
      using T = decltype(type);
      const T* pg = g.data<T>();
      if (in[0].requires_grad()) {
        grads[0] = empty(in[0].shape(), g.dtype());
        detail::gemm<T>(n, features, out_features, pg, in[1].data<T>(), grads[0].data<T>(), false);
      }
      if (in[1].requires_grad()) {
        grads[1] = empty(in[1].shape(), g.dtype());
        detail::gemm_tn<T>(out_features, features, n, pg, in[0].data<T>(), grads[1].data<T>(), false);
      }
      if (in.size() == 3 && in[2].requires_grad()) {
        grads[2] = zeros(in[2].shape(), g.dtype());
        T* db = grads[2].data<T>();
        for (std::int64_t r = 0; r < n; ++r)
          for (std::int64_t c = 0; c < out_features; ++c) db[c] += pg[r * out_features + c];
      }
    });
    return grads;
  });
}

}  // namespace ag
