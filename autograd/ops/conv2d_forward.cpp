// conv2d's forward kernel, for each of its layouts (conv_plan.h).
#include <algorithm>
#include <cstdint>

#include "autograd/detail/activation_rules.h"
#include "autograd/detail/conv_plan.h"
#include "autograd/detail/maps_vectorised_kernels.h"
#include "autograd/detail/product_kernels.h"
#include "autograd/detail/transpose_kernels.h"

namespace ag::detail {

// Forward, per sample n (chunks of samples are independent, and spread over the threads), y[n] [O,P] =
// bias + W [O,K] col(x[n]) [K,P] over the connected taps only, where col(x)[k] is the unrolled input's row
// for tap k:
//   shifted:      col[k] = the padded maps from offset k (on the Wp-wide grid; extra columns dropped), or
//                 when plan.direct_forward, the same sums vectorised over the output maps (direct_conv: for
//                 C3's shape a whole output row at a time, direct_row), or when plan.along_rows, along the
//                 output rows (row_vectorised_conv: C1)
//   im2col:       col = im2col(x[n]), the chunk's samples side by side (each padded to ld columns)
//   patch-major:  y[n,o,p] = bias[o] + the dot product of W's row o with the receptive field (n,p), or from
//                 kRowsForTransposedWeights receptive fields up, their rows times W^T (rows_times_transposed)
//   and then y[n] = f(y[n]) for the activation f, while sample n (or the chunk) is still in the cache.
template <class T>
void conv_forward(const ConvPlan& plan, std::int64_t batch, const T* x, const T* w, const T* bias,
                  Activation activation, T* y) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs, ow = g.out_w;
  const std::int64_t in_size = g.channels * g.height * g.width, out_size = outputs * positions;
  const auto chunks = sample_chunks(batch);
  const auto fill_bias = [&](T* acc, std::int64_t cols) {
    for (std::int64_t o = 0; o < outputs; ++o) std::fill(acc + o * cols, acc + (o + 1) * cols, bias ? bias[o] : T(0));
  };
  if (plan.layout == ConvLayout::shifted && plan.rows_vectorised<T>()) {
    parallel_for(chunks.count, [&](std::int64_t ch) {
      // Unpadded inputs are read in place; padded ones copied into zero-bordered maps first.
      T* padded = g.padding > 0 ? thread_scratch<T>(Slot::s0, plan.padded_size) : nullptr;
      if (padded) std::fill_n(padded, plan.padded_size, T(0));
      const std::int64_t in_w = padded ? g.padded_w() : g.width;
      const std::int64_t map_step = padded ? g.padded_h() * g.padded_w() : g.height * g.width;
      const std::uint8_t* table = plan.table.empty() ? nullptr : plan.table.data();
      for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
        if (padded) pad_into(plan, x + n * in_size, padded);
        row_vectorised_conv(g, outputs, table, padded ? padded : x + n * in_size, map_step, in_w, w, bias,
                            y + n * out_size);
        activate_in_place(activation, y + n * out_size, out_size);
      }
    }, batch * outputs * positions * taps);
    return;
  }
  if (plan.layout == ConvLayout::shifted && plan.direct_forward) {
    // The weights and biases in direct_conv's layout, once per call, on this thread, read by all.
    const std::int64_t padded_outputs = round_up(outputs, kWideLanes<T>);
    T* wt = thread_scratch<T>(Slot::partials_a, padded_outputs * taps);
    T* wbias = thread_scratch<T>(Slot::partials_b, padded_outputs);
    pack_for_maps_vectorised(plan, w, bias, wt, wbias);
    parallel_for(chunks.count, [&](std::int64_t ch) {
      T* padded = thread_scratch<T>(Slot::s0, plan.padded_size);
      T* block = thread_scratch<T>(Slot::s1, positions * kWideLanes<T>);
      std::fill_n(padded, plan.padded_size, T(0));  // the borders and slack stay 0; pad_into writes the interior
      for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
        pad_into(plan, x + n * in_size, padded);
        direct_conv(g, g.padded_w(), plan.tap_offsets.data(), padded, wt, wbias, outputs, block,
                    y + n * out_size);
        activate_in_place(activation, y + n * out_size, out_size);
      }
    }, batch * outputs * positions * taps);
    return;
  }
  if (plan.layout == ConvLayout::shifted) {
    const std::int64_t cols = round_up(plan.grid, kWideLanes<T>), wp = g.padded_w();
    parallel_for(chunks.count, [&](std::int64_t ch) {
      T* padded = thread_scratch<T>(Slot::s0, plan.padded_size);
      T* acc = thread_scratch<T>(Slot::s1, outputs * cols);
      std::fill_n(padded, plan.padded_size, T(0));  // the borders and slack stay 0; pad_into writes the interior
      const RowsOf<T> rows{padded, 0, plan.tap_offsets.data()};
      for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
        pad_into(plan, x + n * in_size, padded);
        fill_bias(acc, cols);
        for (const auto& group : plan.output_groups)
          panel_product(group, cols, w, taps, 1, rows, acc, cols, true);
        for (std::int64_t o = 0; o < outputs; ++o)
          for (std::int64_t i = 0; i < g.out_h; ++i)
            copy_short(acc + o * cols + i * wp, ow, y + n * out_size + o * positions + i * ow);
        activate_in_place(activation, y + n * out_size, out_size);
      }
    }, batch * outputs * positions * taps);
    return;
  }
  if (plan.layout == ConvLayout::im2col) {
    const std::int64_t ld = round_up(positions, kWideLanes<T>);  // a sample's columns, padded
    parallel_for(chunks.count, [&](std::int64_t ch) {
      const std::int64_t first = chunks.begin(ch), m = chunks.end(ch) - first, cols = m * ld;
      T* col = thread_scratch<T>(Slot::s0, taps * cols);
      T* acc = thread_scratch<T>(Slot::s1, outputs * cols);
      zero_padding(col, taps, m, positions, ld);
      for (std::int64_t n = first; n < first + m; ++n) im2col(g, x + n * in_size, col + (n - first) * ld, cols);
      fill_bias(acc, cols);
      for (const auto& group : plan.output_groups)
        panel_product(group, cols, w, taps, 1, RowsOf<T>{col, cols}, acc, cols, true);
      for (std::int64_t n = first; n < first + m; ++n)
        for (std::int64_t o = 0; o < outputs; ++o)
          copy_short(acc + o * cols + (n - first) * ld, positions, y + n * out_size + o * positions);
      activate_in_place(activation, y + first * out_size, m * out_size);
    }, batch * outputs * positions * taps);
    return;
  }
  if (batch * positions >= kRowsForTransposedWeights) {
    // Many receptive fields: y's rows (n,p) = col [rows, K] W^T [K, O], vectorised over the O maps (padded
    // to whole vectors with 0 weights), with W^T made once per call on this thread (a transposition of
    // O K values, which batch-1 calls could not repay: they take the dot products below).
    constexpr std::int64_t L = kWideLanes<T>;
    const std::int64_t ldo = round_up(outputs, L);
    T* wt = thread_scratch<T>(Slot::partials_a, taps * ldo);
    transpose_weights(w, outputs, taps, ldo, wt);
    parallel_for(chunks.count, [&](std::int64_t ch) {
      const std::int64_t first = chunks.begin(ch), rows = (chunks.end(ch) - first) * positions;
      T* acc = thread_scratch<T>(Slot::s1, rows * ldo);  // row (n,p): its ldo maps
      // Row (n,p): the receptive field of position p; the samples themselves when that is the whole input.
      const T* col = x + first * in_size;
      if (!g.patch_is_input()) {
        T* fields = thread_scratch<T>(Slot::s0, rows * taps);
        for (std::int64_t n = first; n < chunks.end(ch); ++n)
          im2col_patches(g, x + n * in_size, fields + (n - first) * positions * taps, taps);
        col = fields;
      }
      rows_times_transposed(rows, taps, col, taps, wt, outputs, ldo, bias, acc);
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t n = first + r / positions, p = r % positions;
        for (std::int64_t o = 0; o < outputs; ++o) y[n * out_size + o * positions + p] = acc[r * ldo + o];
      }
      activate_in_place(activation, y + first * out_size, (chunks.end(ch) - first) * out_size);
    }, batch * outputs * positions * taps);
    return;
  }
  // Patch-major: whole vectors along each receptive field, so W's rows are padded with zeros to ld when K is
  // not a multiple of the vector length (a copy made once per call, on this thread).
  const std::int64_t ld = round_up(taps, kWideLanes<T>);
  const T* wrows = w;
  if (ld != taps) {
    T* padded = thread_scratch<T>(Slot::partials_a, outputs * ld);
    for (std::int64_t o = 0; o < outputs; ++o) {
      std::copy_n(w + o * taps, taps, padded + o * ld);
      std::fill(padded + o * ld + taps, padded + (o + 1) * ld, T(0));
    }
    wrows = padded;
  }
  parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), rows = (chunks.end(ch) - first) * positions;
    // Row (n,p): the receptive field of position p, ld wide; the samples themselves when that is the whole
    // input and already whole vectors.
    const T* col = x + first * in_size;
    if (!g.patch_is_input() || ld != taps) {
      T* fields = thread_scratch<T>(Slot::s0, rows * ld);
      for (std::int64_t n = first; n < chunks.end(ch); ++n)
        im2col_patches(g, x + n * in_size, fields + (n - first) * positions * ld, ld);
      if (ld != taps)
        for (std::int64_t r = 0; r < rows; ++r) std::fill(fields + r * ld + taps, fields + (r + 1) * ld, T(0));
      col = fields;
    }
    const T* ap[kDotRowsA];
    const T* bp[kDotRowsB];
    T out[kDotRowsA * kDotRowsB];
    for (std::int64_t r0 = 0; r0 < rows; r0 += kDotRowsB) {
      const int rv = static_cast<int>(std::min<std::int64_t>(kDotRowsB, rows - r0));
      for (int v = 0; v < rv; ++v) bp[v] = col + (r0 + v) * ld;
      for (std::int64_t o0 = 0; o0 < outputs; o0 += kDotRowsA) {
        const int ru = static_cast<int>(std::min<std::int64_t>(kDotRowsA, outputs - o0));
        for (int u = 0; u < ru; ++u) ap[u] = wrows + (o0 + u) * ld;
        dot_block(ld, ap, ru, bp, rv, out, rv);
        for (int v = 0; v < rv; ++v) {
          const std::int64_t row = first * positions + r0 + v, n = row / positions, p = row % positions;
          for (int u = 0; u < ru; ++u)
            y[n * out_size + (o0 + u) * positions + p] = out[u * rv + v] + (bias ? bias[o0 + u] : T(0));
        }
      }
    }
    activate_in_place(activation, y + first * out_size, (chunks.end(ch) - first) * out_size);
  }, batch * outputs * positions * taps);
}

template void conv_forward<float>(const ConvPlan&, std::int64_t, const float*, const float*, const float*, Activation,
                                  float*);
template void conv_forward<double>(const ConvPlan&, std::int64_t, const double*, const double*, const double*,
                                   Activation, double*);

}  // namespace ag::detail
