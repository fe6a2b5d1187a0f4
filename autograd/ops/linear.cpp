#include "autograd/ops/linear.h"

#include <algorithm>

#include "autograd/detail/activation_rules.h"
#include "autograd/detail/batch_kernels.h"
#include "autograd/detail/product_kernels.h"
#include "autograd/detail/transpose_kernels.h"
#include "autograd/graph.h"

namespace ag {

namespace {

// y[n,o] = b[o] + sum_i x[n,i] W[o,i], chunks of samples on the threads, each value computed the same way
// whatever the thread that computes it, in one of two ways chosen by the batch size:
//  - from kRowsForTransposedWeights samples up, the rows of x times W^T (transposed once per call),
//    vectorised over the outputs, each a sum over i in order;
//  - below, where that transposition would cost as much as the product, a dot product of two contiguous rows
//    per output, lane-wise over the whole vectors, then the tail of fewer than kWideLanes<T> features added
//    one by one.
template <class T>
void linear_forward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                    const T* bias, T* y) {
  const auto chunks = detail::sample_chunks(batch);
  if (batch >= detail::kRowsForTransposedWeights) {
    const std::int64_t ldo = detail::round_up(outputs, detail::kWideLanes<T>);
    T* wt = detail::thread_scratch<T>(detail::Slot::partials_a, features * ldo);
    detail::transpose_weights(w, outputs, features, ldo, wt);
    detail::parallel_for(chunks.count, [&](std::int64_t ch) {
      const std::int64_t first = chunks.begin(ch), rows = chunks.end(ch) - first;
      T* acc = detail::thread_scratch<T>(detail::Slot::s0, rows * ldo);
      detail::rows_times_transposed(rows, features, x + first * features, features, wt, outputs, ldo, bias, acc);
      for (std::int64_t r = 0; r < rows; ++r) std::copy_n(acc + r * ldo, outputs, y + (first + r) * outputs);
    }, batch * outputs * features);
    return;
  }
  const std::int64_t whole = features / detail::kWideLanes<T> * detail::kWideLanes<T>;
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    const T* ap[detail::kDotRowsA];
    const T* bp[detail::kDotRowsB];
    T out[detail::kDotRowsA * detail::kDotRowsB];
    for (std::int64_t n0 = chunks.begin(ch); n0 < chunks.end(ch); n0 += detail::kDotRowsB) {
      const int rv = static_cast<int>(std::min<std::int64_t>(detail::kDotRowsB, chunks.end(ch) - n0));
      for (int v = 0; v < rv; ++v) bp[v] = x + (n0 + v) * features;
      for (std::int64_t o0 = 0; o0 < outputs; o0 += detail::kDotRowsA) {
        const int ru = static_cast<int>(std::min<std::int64_t>(detail::kDotRowsA, outputs - o0));
        for (int u = 0; u < ru; ++u) ap[u] = w + (o0 + u) * features;
        detail::dot_block(whole, ap, ru, bp, rv, out, rv);
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
//   dL/dx = G W        [N,out] x [out,in]   per chunk of samples, its rows
//   dL/db = sum_n G    [out]                per chunk of samples, their partial sums added in chunk order
//   dL/dW = G^T x      [out,N] x [N,in]     after those, over the whole batch, blocks of rows of dL/dW
//                                           on the threads (no partial sums of out x in values per chunk)
template <class T>
void linear_backward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                     const T* g, T* gx, T* gw, T* gb) {
  const auto chunks = detail::sample_chunks(batch);
  detail::ChunkPartials<T> part_b(chunks.count, gb, gb ? outputs : 0, detail::Slot::partials_b);
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), m = chunks.end(ch) - first;
    const T* gc = g + first * outputs;
    if (gx) detail::rows_times_weights(m, outputs, features, gc, w, gx + first * features, features);
    if (gb) {
      T* pb = part_b.chunk(ch);
      for (std::int64_t n = 0; n < m; ++n)
        for (std::int64_t o = 0; o < outputs; ++o) pb[o] += gc[n * outputs + o];
    }
  }, batch * outputs * features);
  part_b.reduce();
  if (gw) detail::weight_gradient_by_rows(batch, outputs, features, g, x, gw);
}

}  // namespace

// y[n,o] = sum_i x[n,i] W[o,i] + b[o]
//   dL/dx = dL/dy W      [N,out] x [out,in]
//   dL/dW = dL/dy^T x    [out,N] x [N,in]
//   dL/db = sum_n dL/dy  [out]
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation activation) {
  if (x.dim() != 2 || weight.dim() != 2 || x.size(1) != weight.size(1))
    fail("linear", "expects x [N,in] and weight [out,in], got x {} and weight {}", shape_str(x.shape()),
         shape_str(weight.shape()));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    fail("linear", "bias {} does not match weight {}: expected [{}]", shape_str(bias.shape()),
         shape_str(weight.shape()), weight.size(0));
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    fail("linear", "dtypes differ: x {}, weight {}", dtype_name(x.dtype()), dtype_name(weight.dtype()));
  const std::int64_t n = x.size(0), in = x.size(1), out_features = weight.size(0);
  Tensor out = empty({n, out_features}, x.dtype());
  dispatch_floating(x.dtype(), "linear", [&](auto type) {
    using T = decltype(type);
    linear_forward<T>(n, out_features, in, x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                      out.data<T>());
    detail::activate_in_place(activation, out.data<T>(), out.numel());  // small: F6's 84 values a sample
  });
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  // With a fused activation f, y = f(z): the rules below take dL/dz = dL/dy f'(z), computed from y first.
  auto [name, y] = detail::fused_activation("linear", activation, out);
  return record(name, out, std::move(inputs), [activation, y](const Tensor& gy, const std::vector<Tensor>& in) {
    const Tensor g = detail::activation_input_gradient("linear backward", activation, gy, y);
    std::vector<Tensor> grads(in.size());
    const std::int64_t n = g.size(0), out_features = g.size(1), features = in[0].size(1);
    const bool need_x = in[0].requires_grad(), need_w = in[1].requires_grad();
    const bool need_b = in.size() == 3 && in[2].requires_grad();
    if (need_x) grads[0] = empty(in[0].shape(), g.dtype());
    if (need_w) grads[1] = empty(in[1].shape(), g.dtype());
    if (need_b) grads[2] = empty(in[2].shape(), g.dtype());
    dispatch_floating(g.dtype(), "linear backward", [&](auto type) {
      using T = decltype(type);
      linear_backward<T>(n, out_features, features, in[0].data<T>(), in[1].data<T>(), g.data<T>(),
                         need_x ? grads[0].data<T>() : nullptr, need_w ? grads[1].data<T>() : nullptr,
                         need_b ? grads[2].data<T>() : nullptr);
    });
    return grads;
  });
}

}  // namespace ag
