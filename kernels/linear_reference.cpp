// The fully connected layer's reference kernels: plain loops over the definition. Compiled without
// floating-point contraction (kernels/CMakeLists.txt), so that each product and sum is rounded once, as
// written, whether the compiler vectorises a loop or not: a feature's gradient has the same bits wherever it
// falls in the row.
#include "kernels/linear_reference.h"

#include <algorithm>

namespace ag::kernels {

// y[n,o] = bias[o] + sum_i x[n,i] W[o,i], in order of i.
template <class T>
void linear_reference_forward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                              const T* bias, T* y) {
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t o = 0; o < outputs; ++o) {
      T sum = bias ? bias[o] : T(0);
      for (std::int64_t i = 0; i < features; ++i) sum += x[n * features + i] * w[o * features + i];
      y[n * outputs + o] = sum;
    }
}

// dL/dx[n,i] = sum_o G[n,o] W[o,i];  dL/dW[o,i] = sum_n G[n,o] x[n,i];  dL/dbias[o] = sum_n G[n,o]
template <class T>
void linear_reference_backward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                               const T* g, T* gx, T* gw, T* gb) {
  if (gx) std::fill_n(gx, batch * features, T(0));
  if (gw) std::fill_n(gw, outputs * features, T(0));
  if (gb) std::fill_n(gb, outputs, T(0));
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t o = 0; o < outputs; ++o) {
      const T go = g[n * outputs + o];
      if (gb) gb[o] += go;
      for (std::int64_t i = 0; i < features; ++i) {
        if (gx) gx[n * features + i] += go * w[o * features + i];
        if (gw) gw[o * features + i] += go * x[n * features + i];
      }
    }
}

template void linear_reference_forward<float>(std::int64_t, std::int64_t, std::int64_t, const float*, const float*,
                                              const float*, float*);
template void linear_reference_forward<double>(std::int64_t, std::int64_t, std::int64_t, const double*,
                                               const double*, const double*, double*);
template void linear_reference_backward<float>(std::int64_t, std::int64_t, std::int64_t, const float*,
                                               const float*, const float*, float*, float*, float*);
template void linear_reference_backward<double>(std::int64_t, std::int64_t, std::int64_t, const double*,
                                                const double*, const double*, double*, double*, double*);

}  // namespace ag::kernels
