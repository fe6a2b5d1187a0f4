#include "autograd/ops/rbf.h"

#include <algorithm>

#include "autograd/detail/batch_kernels.h"
#include "autograd/graph.h"

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

// y[n,i] = sum_j (x[n,j] - w[i,j])^2, one lane-accumulated sum of squared differences per (n, i).
template <class T>
void rbf_forward(std::int64_t batch, std::int64_t units, std::int64_t d, const T* x, const T* w, T* y) {
  const auto chunks = detail::sample_chunks(batch);
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n)
      for (std::int64_t i = 0; i < units; ++i) y[n * units + i] = detail::squared_distance(x + n * d, w + i * d, d);
  }, batch * units * d);
}

// With G = dL/dy [N,K] and r = 2 G[n,i] (x[n,:] - w[i,:]):  dL/dx[n,:] = sum_i r;  dL/dw[i,:] = -sum_n r.
template <class T>
void rbf_backward(std::int64_t batch, std::int64_t units, std::int64_t d, const T* x, const T* w, const T* gy, T* gx,
                  T* gw) {
  const auto chunks = detail::sample_chunks(batch);
  detail::ChunkPartials<T> part_w(chunks.count, gw, gw ? units * d : 0, detail::Slot::partials_a);
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    T* pw = part_w.chunk(ch);
    for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
      const T* xn = x + n * d;
      T* gxn = gx ? gx + n * d : nullptr;
      if (gxn) std::fill(gxn, gxn + d, T(0));
      for (std::int64_t i = 0; i < units; ++i) {
        const T twice_g = 2 * gy[n * units + i];
        const T* wi = w + i * d;
        if (gxn)
          for (std::int64_t j = 0; j < d; ++j) gxn[j] += twice_g * (xn[j] - wi[j]);
        if (gw) {
          T* pwi = pw + i * d;
          for (std::int64_t j = 0; j < d; ++j) pwi[j] -= twice_g * (xn[j] - wi[j]);
        }
      }
    }
  }, 2 * batch * units * d);
  part_w.reduce();
}

}  // namespace

Tensor rbf(const Tensor& x, const Tensor& centres) {
  check_arguments(x, centres);
  const std::int64_t batch = x.size(0), units = centres.size(0), d = x.size(1);
  Tensor out = empty({batch, units}, x.dtype());
  dispatch_floating(x.dtype(), "rbf", [&](auto type) {
    using T = decltype(type);
    rbf_forward<T>(batch, units, d, x.data<T>(), centres.data<T>(), out.data<T>());
  });
  // dL/dx [N,D] = sum_i 2 G[n,i] (x[n,:] - w[i,:]);  dL/dw [K,D] = -sum_n 2 G[n,i] (x[n,:] - w[i,:])
  return record("rbf", out, {x, centres}, [](const Tensor& g, const std::vector<Tensor>& in) {
    const bool need_x = in[0].requires_grad(), need_w = in[1].requires_grad();
    Tensor gx = need_x ? empty(in[0].shape(), g.dtype()) : Tensor();
    Tensor gw = need_w ? empty(in[1].shape(), g.dtype()) : Tensor();
    dispatch_floating(g.dtype(), "rbf backward", [&](auto type) {
      using T = decltype(type);
      rbf_backward<T>(in[0].size(0), in[1].size(0), in[0].size(1), in[0].data<T>(), in[1].data<T>(), g.data<T>(),
                      need_x ? gx.data<T>() : nullptr, need_w ? gw.data<T>() : nullptr);
    });
    return std::vector<Tensor>{gx, gw};
  });
}

}  // namespace ag
