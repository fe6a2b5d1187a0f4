// The RBF output's kernels: the fast forward sums each squared distance in vector lanes; the reference is the
// plain loop (the tests compare the two; a reference build runs the second). The backward is plain loops,
// its dL/dw summed per chunk of samples and the chunks added in order.
#include "kernels/rbf.h"

#include <algorithm>

#include "kernels/chunks.h"
#include "kernels/parallel.h"
#include "kernels/reductions.h"

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

template <class T>
void rbf_backward(std::int64_t batch, std::int64_t units, std::int64_t d, const T* x, const T* w, const T* gy, T* gx,
                  T* gw) {
  const auto chunks = sample_chunks(batch);
  ChunkPartials<T> part_w(chunks.count, gw, gw ? units * d : 0, thread_scratch<RbfScratch>().centre_sums);
  parallel_for(chunks.count, [&](std::int64_t ch) {
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

template void rbf_forward<float>(std::int64_t, std::int64_t, std::int64_t, const float*, const float*, float*,
                                 Implementation);
template void rbf_forward<double>(std::int64_t, std::int64_t, std::int64_t, const double*, const double*, double*,
                                  Implementation);
template void rbf_backward<float>(std::int64_t, std::int64_t, std::int64_t, const float*, const float*, const float*,
                                  float*, float*);
template void rbf_backward<double>(std::int64_t, std::int64_t, std::int64_t, const double*, const double*,
                                   const double*, double*, double*);

}  // namespace ag::kernels
