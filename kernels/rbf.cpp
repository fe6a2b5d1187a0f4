// The RBF output's kernels: the fast forward sums each squared distance in vector lanes; the reference is the
// plain loop (the tests compare the two; a reference build runs the second). The backward sums its terms in
// registers, in the order the plain loops would; its dL/dw is summed per chunk of samples and the chunks
// added in order.
#include "kernels/rbf.h"

#include <algorithm>

#include "kernels/chunks.h"
#include "kernels/parallel.h"
#include "kernels/reductions.h"
#include "kernels/simd.h"

namespace ag::kernels {

namespace {

/// A call's buffers, on the thread that makes the call.
struct RbfScratch {
  ScratchBuffer centre_sums;  // dL/dw's partial sums per chunk
};

}  // namespace

template <class T>
void rbf_forward(std::int64_t batch, std::int64_t units, std::int64_t d, const T* x, const T* w, T* y,
                 Implementation impl) {
  if (impl == Implementation::reference) {
    for (std::int64_t n = 0; n < batch; ++n)
      for (std::int64_t i = 0; i < units; ++i) {
        T sum = 0;
        for (std::int64_t j = 0; j < d; ++j) sum += (x[n * d + j] - w[i * d + j]) * (x[n * d + j] - w[i * d + j]);
        y[n * units + i] = sum;
      }
    return;
  }
  const auto chunks = sample_chunks(batch);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n)
      for (std::int64_t i = 0; i < units; ++i) y[n * units + i] = squared_distance(x + n * d, w + i * d, d);
  }, batch * units * d);
}

// dL/dx[n,j] = sum_i 2 G[n,i] (x[n,j] - w[i,j]), the terms over i in order from 0;
// dL/dw[i,j] = -sum_n 2 G[n,i] (x[n,j] - w[i,j]), over a chunk's n in order, the chunks added in order.
// Both are one pattern, out[j] = start[j] + sum_r a_r (p_r[j] - q_r[j]) (one fused multiply-add a term),
// summed in registers, kRbfBlock wide vectors of j at a time, instead of a load and a store of out[j] per
// term. (Most of this backward's former cost was subnormal G from the MAP loss, which the loss no longer
// gives: autograd/ops/loss.cpp, exp_or_zero.)
inline constexpr int kRbfBlock = 4;

/// out[j] = (start ? start[j] : 0) + sum over r < count, in order, of coefficient(r) (p(r)[j] - q(r)[j]),
/// for j < d; out may be start.
template <class T, class Coefficient, class RowP, class RowQ>
void sum_scaled_differences(std::int64_t d, std::int64_t count, Coefficient coefficient, RowP p, RowQ q,
                            const T* start, T* out) {
  constexpr std::int64_t L = kWideLanes<T>;
  std::int64_t j0 = 0;
  const auto block = [&](auto vectors) {
    constexpr int V = decltype(vectors)::value;
    Wide<T> acc[V];
    for (int v = 0; v < V; ++v) acc[v] = start ? load_wide(start + j0 + v * L) : Wide<T>{};
    for (std::int64_t r = 0; r < count; ++r) {
      const Wide<T> a = splat_wide(coefficient(r));
      const T* pr = p(r) + j0;
      const T* qr = q(r) + j0;
      for (int v = 0; v < V; ++v) acc[v] = fmadd(a, load_wide(pr + v * L) - load_wide(qr + v * L), acc[v]);
    }
    for (int v = 0; v < V; ++v) store_wide(out + j0 + v * L, acc[v]);
    j0 += V * L;
  };
  while (j0 + kRbfBlock * L <= d) block(std::integral_constant<int, kRbfBlock>{});
  while (j0 + L <= d) block(std::integral_constant<int, 1>{});
  for (; j0 < d; ++j0) {  // the last d % L, one at a time, in the same order
    T acc = start ? start[j0] : T(0);
    for (std::int64_t r = 0; r < count; ++r) acc = fmadd(coefficient(r), p(r)[j0] - q(r)[j0], acc);
    out[j0] = acc;
  }
}

template <class T>
void rbf_backward(std::int64_t batch, std::int64_t units, std::int64_t d, const T* x, const T* w, const T* gy, T* gx,
                  T* gw) {
  const auto chunks = sample_chunks(batch);
  ChunkPartials<T> part_w(chunks.count, gw, gw ? units * d : 0, thread_scratch<RbfScratch>().centre_sums);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), m = chunks.end(ch) - first;
    if (gx)
      for (std::int64_t n = first; n < first + m; ++n)
        sum_scaled_differences<T>(
            d, units, [&](std::int64_t i) { return 2 * gy[n * units + i]; }, [&](std::int64_t) { return x + n * d; },
            [&](std::int64_t i) { return w + i * d; }, nullptr, gx + n * d);
    if (!gw) return;
    T* pw = part_w.chunk(ch);
    for (std::int64_t i = 0; i < units; ++i)
      sum_scaled_differences<T>(
          d, m, [&](std::int64_t r) { return -(2 * gy[(first + r) * units + i]); },
          [&](std::int64_t r) { return x + (first + r) * d; }, [&](std::int64_t) { return w + i * d; }, pw + i * d,
          pw + i * d);
  }, 2 * batch * units * d);
  part_w.reduce();
}

template void rbf_forward<float>(std::int64_t, std::int64_t, std::int64_t, const float*, const float*, float*,
                                 Implementation);
template void rbf_forward<double>(std::int64_t, std::int64_t, std::int64_t, const double*, const double*, double*,
                                  Implementation);
template void rbf_backward<float>(std::int64_t, std::int64_t, std::int64_t, const float*, const float*, const float*,
                                  float*, float*);
template void rbf_backward<double>(std::int64_t, std::int64_t, std::int64_t, const double*, const double*,
                                   const double*, double*, double*);

}  // namespace ag::kernels
