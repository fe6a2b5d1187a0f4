// The fully connected layer's kernels: a fast path of register-blocked products, and the entry points that
// pick it or the reference (linear_reference.cpp; the tests compare the two, a reference build runs the second).
#include "kernels/linear.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/dots.h"
#include "kernels/products.h"
#include "kernels/linear_reference.h"
#include "kernels/reference.h"
#include "kernels/row_lanes_product.h"

namespace ag::kernels {

namespace {

/// A call's buffers, on the thread that makes the call.
struct LinearCallScratch {
  ScratchBuffer bias_sums;  // dL/dbias's partial sums per chunk
};

// y[n,o] = b[o] + sum_i x[n,i] W[o,i], each value computed the same way whatever the thread that computes it,
// in one of two ways chosen by the batch size:
//  - from kRowsForRowLanes<T> samples up, vectorised over the samples (row_lanes_product), each a sum over i
//    in order;
//  - below, chunks of samples on the threads, a dot product of two contiguous rows per output, lane-wise over
//    the whole vectors, then the tail of fewer than kWideLanes<T> features added one by one. Pairs of samples
//    go through dot_block; a lone one (batch 1) through dots_with_row, the same sums for a vector's width of
//    outputs at once.
template <class T>
void fast_forward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                  const T* bias, T* y) {
  if (batch >= kRowsForRowLanes<T>) return row_lanes_product(batch, features, x, w, outputs, bias, y, outputs);
  const auto chunks = sample_chunks(batch);
  const std::int64_t whole = features / kWideLanes<T> * kWideLanes<T>;
  parallel_for(chunks.count, [&](std::int64_t ch) {
    const T* ap[kDotCallRows<T>];
    const T* bp[kDotRowsB];
    T out[kDotCallOutputs<T>];
    for (std::int64_t n0 = chunks.begin(ch); n0 < chunks.end(ch); n0 += kDotRowsB) {
      const int rv = static_cast<int>(std::min<std::int64_t>(kDotRowsB, chunks.end(ch) - n0));
      for (int v = 0; v < rv; ++v) bp[v] = x + (n0 + v) * features;
      const std::int64_t block = dot_rows_per_call<T>(rv);
      for (std::int64_t o0 = 0; o0 < outputs; o0 += block) {
        const int ru = static_cast<int>(std::min<std::int64_t>(block, outputs - o0));
        for (int u = 0; u < ru; ++u) ap[u] = w + (o0 + u) * features;
        dot_products(whole, ap, ru, bp, rv, out);
        for (int u = 0; u < ru; ++u)
          for (int v = 0; v < rv; ++v) {
            T total = out[u * rv + v];
            for (std::int64_t i = whole; i < features; ++i) total += ap[u][i] * bp[v][i];
            y[(n0 + v) * outputs + o0 + u] = total + (bias ? bias[o0 + u] : T(0));
          }
      }
    }
  }, batch * outputs * features);
}

// With G = dL/dy [N,out] (register-blocked products, no transposed copies):
//   dL/db = sum_n G    [out]                per chunk of samples, their partial sums added in chunk order
//   dL/dx = G W        [N,out] x [out,in]   all rows at once, W's columns split over the threads
//   dL/dW = G^T x      [out,N] x [N,in]     after those, over the whole batch, blocks of rows of dL/dW
//                                           on the threads (no partial sums of out x in values per chunk)
template <class T>
void fast_backward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                   const T* g, T* gx, T* gw, T* gb, const BlockSink* w_sink) {
  const auto chunks = sample_chunks(batch);
  ChunkPartials<T> part_b(chunks.count, gb, gb ? outputs : 0, thread_scratch<LinearCallScratch>().bias_sums);
  if (gb) {
    for (std::int64_t ch = 0; ch < chunks.count; ++ch) {  // N x out adds: less than waking a thread costs
      const std::int64_t first = chunks.begin(ch), m = chunks.end(ch) - first;
      T* pb = part_b.chunk(ch);
      for (std::int64_t n = 0; n < m; ++n)
        for (std::int64_t o = 0; o < outputs; ++o) pb[o] += g[(first + n) * outputs + o];
    }
    part_b.reduce();
  }
  if (gx) rows_times_weights_by_columns(batch, outputs, features, g, w, gx, features);
  if (gw || w_sink) weight_gradient_by_rows(batch, outputs, features, g, x, gw, w_sink);
}

}  // namespace

template <class T>
void linear_forward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                    const T* bias, Activation activation, T* y, Implementation impl) {
  if (impl == Implementation::reference)
    linear_reference_forward(batch, outputs, features, x, w, bias, y);
  else
    fast_forward(batch, outputs, features, x, w, bias, y);
  activate_in_place(activation, y, batch * outputs);
}

template <class T>
void linear_backward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                     const T* g, T* gx, T* gw, T* gb, const BlockSink* w_sink, Implementation impl) {
  if (impl == Implementation::fast) return fast_backward(batch, outputs, features, x, w, g, gx, gw, gb, w_sink);
  std::vector<T> whole(w_sink ? static_cast<std::size_t>(outputs * features) : 0);
  linear_reference_backward(batch, outputs, features, x, w, g, gx, w_sink ? whole.data() : gw, gb);
  if (w_sink) w_sink->send(0, outputs * features, whole.data());
}

template void linear_forward<float>(std::int64_t, std::int64_t, std::int64_t, const float*, const float*,
                                    const float*, Activation, float*, Implementation);
template void linear_forward<double>(std::int64_t, std::int64_t, std::int64_t, const double*, const double*,
                                     const double*, Activation, double*, Implementation);
template void linear_backward<float>(std::int64_t, std::int64_t, std::int64_t, const float*, const float*,
                                     const float*, float*, float*, float*, const BlockSink*, Implementation);
template void linear_backward<double>(std::int64_t, std::int64_t, std::int64_t, const double*, const double*,
                                      const double*, double*, double*, double*, const BlockSink*,
                                      Implementation);

}  // namespace ag::kernels
