#pragma once
/// conv2d's register kernels vectorised along the output rows (one vector holds L = kWideLanes<T> output
/// columns of one map), for stride 1 and few output maps, where the maps-vectorised kernels would leave most
/// lanes empty: LeNet-5's C1 (6 maps of 28 x 28) fills 87.5 % of its lanes this way against 37.5 % over the
/// maps. The forward and dL/dW (dL/dx keeps the grid); the path that runs them is rows_vectorised.cpp.
///
/// A row of OW >= L outputs is V = ceil(OW / L) vectors; vector v starts at column min(v L, OW - L), so the
/// last one ends at OW and recomputes (to the same bits, the sums running in the same order) the columns it
/// shares with the one before. Nothing is read or written past a row's OW columns and the input's last
/// column, so an unpadded input is read in place.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/activation.h"
#include "kernels/conv/geometry.h"
#include "kernels/conv/specialised_shapes.h"
#include "kernels/simd.h"

namespace ag::kernels {

/// R output rows of one map, stride 1: out[r OW + j] = bias + sum over the input maps c that `reads` marks
/// (all when null), ki < KH, kj < KW of w[(c KH + ki) KW + kj] x[c map_step + (r + ki) in_w + j + kj], for r
/// < R, j < OW. x is the input from the block's first row (in_w wide, map_step apart), w the map's weights
/// [C, KH, KW]. Each input row's V vectors at each shift kj are loaded once and used by all (up to KH)
/// output rows that read them; the sums run over c, ki, kj in order.
template <class T, int OW, int KH, int KW, int R>
[[gnu::noinline]] void row_vectorised_block(std::int64_t channels, const std::uint8_t* reads, std::int64_t map_step,
                                            std::int64_t in_w, const T* x, const T* w, T bias, T* out) {
  using B = RowVectorisedBlocking<T, OW, KW>;
  constexpr int V = B::V;
  Wide<T> acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) acc[r][v] = splat_wide(bias);
  for (std::int64_t c = 0; c < channels; ++c) {
    if (reads && !reads[c]) continue;
    const T* xc = x + c * map_step;
    const T* wc = w + c * KH * KW;
#pragma GCC unroll 16
    for (int q = 0; q < R + KH - 1; ++q) {
      // The weights are broadcast again for each input row, not held in registers: that takes 25 of them
      // (5 x 5), and the R V accumulators would spill. The empty asm hides that wq is wc, so that GCC
      // cannot hoist the broadcasts out of the row loop.
      const T* wq = wc;
      asm("" : "+r"(wq));
#pragma GCC unroll 8
      for (int kj = 0; kj < KW; ++kj) {
        Wide<T> xv[V];
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
          xv[v] = load_wide(xc + q * in_w + B::start(v) + kj);
          // Held in a register for the output rows that use it: left to itself, GCC folds the load into
          // each of their multiply-adds, and most of these loads cross a cache line: a load per
          // multiply-add instead of one per row.
          asm("" : "+v"(xv[v]));
        }
#pragma GCC unroll 8
        for (int ki = 0; ki < KH; ++ki) {
          const int r = q - ki;  // input row q is row ki of output row r's receptive field
          if (r < 0 || r >= R) continue;
          const Wide<T> wv = splat_wide(wq[ki * KW + kj]);
#pragma GCC unroll 8
          for (int v = 0; v < V; ++v) acc[r][v] = fmadd(wv, xv[v], acc[r][v]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) store_wide(out + r * OW + B::start(v), acc[r][v]);
}

/// One sample's convolution, stride 1, vectorised along the output rows (row_vectorised_block, R rows at a
/// time): y [O, OH, OW] from x [C] maps of in_h x in_w (map_step apart, already padded; in_w >= OW + KW - 1),
/// w [O, C, KH, KW] and bias [O] or null; `table` the connection table's [O, C] entries or null for all.
/// Needs with_row_vectorised_shape<T>(g.out_w, g.kh, g.kw).
template <class T>
void row_vectorised_conv(const ConvGeometry& g, std::int64_t outputs, const std::uint8_t* table, const T* x,
                         std::int64_t map_step, std::int64_t in_w, const T* w, const T* bias, T* y) {
  with_row_vectorised_shape<T>(g.out_w, g.kh, g.kw, [&](auto ow, auto kh, auto kw) {
    constexpr int OW = decltype(ow)::value, KH = decltype(kh)::value, KW = decltype(kw)::value;
    constexpr int R = RowVectorisedBlocking<T, OW, KW>::R;
    // As few blocks as R rows a block allow, of heights as equal as possible (C1's 28 rows: 7 blocks of 4).
    const std::int64_t blocks = (g.out_h + R - 1) / R, rows = (g.out_h + blocks - 1) / blocks;
    for (std::int64_t o = 0; o < outputs; ++o) {
      const std::uint8_t* reads = table ? table + o * g.channels : nullptr;
      const T b = bias ? bias[o] : T(0);
      for (std::int64_t i0 = 0; i0 < g.out_h; i0 += rows)
        with_count<R>(std::min(rows, g.out_h - i0), [&](auto count) {
          row_vectorised_block<T, OW, KH, KW, decltype(count)::value>(g.channels, reads, map_step, in_w,
                                                                      x + i0 * in_w, w + o * g.taps(), b,
                                                                      y + (o * g.out_h + i0) * OW);
        });
    }
  });
}

/// The multiply-adds of RI consecutive output rows (from gi, OW apart) into row_vectorised_weight_rows's
/// sums: their G rows are loaded once (the last vector's `own` lanes kept, the rest 0), then each input row
/// q < KI + RI - 1 (from xi, in_w apart) at each shift kj is loaded once for every output row r that reads it
/// as kernel row q - r. With RI = 2 that is about half a load per multiply-add.
template <class T, int OW, int KW, int KI, int RI, bool Bias, class Mask>
[[gnu::always_inline]] inline void add_weight_rows(const T* gi, const T* xi, std::int64_t in_w, const Mask& own,
                                                   Wide<T>* acc, Wide<T>& bsum) {
  using B = RowVectorisedBlocking<T, OW, KW>;
  constexpr int V = B::V;
  constexpr bool masked = (V - 1) * B::L > B::start(V - 1);
  Wide<T> gv[RI][V];
#pragma GCC unroll 4
  for (int r = 0; r < RI; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) gv[r][v] = load_wide(gi + r * OW + B::start(v));
    if constexpr (masked) gv[r][V - 1] = own ? gv[r][V - 1] : Wide<T>{};
    if constexpr (Bias)
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) bsum += gv[r][v];
  }
#pragma GCC unroll 8
  for (int q = 0; q < KI + RI - 1; ++q)
#pragma GCC unroll 8
    for (int kj = 0; kj < KW; ++kj)
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) {
        Wide<T> xv = load_wide(xi + q * in_w + B::start(v) + kj);
        asm("" : "+v"(xv));  // one load for the RI rows (see row_vectorised_block)
#pragma GCC unroll 4
        for (int r = 0; r < RI; ++r)
          if (q - r >= 0 && q - r < KI) acc[(q - r) * KW + kj] = fmadd(gv[r][v], xv, acc[(q - r) * KW + kj]);
      }
}

/// The weight gradient of KI kernel rows [ki0, ki0 + KI) of one (output map, input map) pair, stride 1 (the
/// transpose of row_vectorised_block): sums[kk KW + kj] += sum over samples s, output rows i, columns j of
/// g_s[i OW + j] x_s[(i + kk) in_w + j + kj], x the input map from row ki0 (sample s at s x_step) and g the
/// output map's gradient [OH, OW] (sample s at s g_step); with Bias, also *bias_sum += sum g. Two output
/// rows at a time (add_weight_rows); each sum runs over samples, rows, vectors in order.
template <class T, int OW, int KW, int KI, bool Bias>
[[gnu::noinline]] void row_vectorised_weight_rows(std::int64_t out_h, std::int64_t in_w, std::int64_t samples,
                                                  const T* x, std::int64_t x_step, const T* grad,
                                                  std::int64_t g_step, Wide<T>* sums, Wide<T>* bias_sum) {
  using B = RowVectorisedBlocking<T, OW, KW>;
  // The last vector's lanes below `shared` repeat the previous vector's columns: G's are masked to 0 there.
  constexpr std::int64_t shared = (B::V - 1) * B::L - B::start(B::V - 1);
  Wide<T> lane;
  for (int l = 0; l < B::L; ++l) lane[l] = static_cast<T>(l);
  const auto own = lane >= static_cast<T>(shared);
  Wide<T> acc[KI * KW];
#pragma GCC unroll 32
  for (int t = 0; t < KI * KW; ++t) acc[t] = sums[t];
  Wide<T> bsum = Bias ? *bias_sum : Wide<T>{};
  for (std::int64_t s = 0; s < samples; ++s) {
    const T* gs = grad + s * g_step;
    const T* xs = x + s * x_step;
    std::int64_t i = 0;
    for (; i + 2 <= out_h; i += 2)
      add_weight_rows<T, OW, KW, KI, 2, Bias>(gs + i * OW, xs + i * in_w, in_w, own, acc, bsum);
    if (i < out_h) add_weight_rows<T, OW, KW, KI, 1, Bias>(gs + i * OW, xs + i * in_w, in_w, own, acc, bsum);
  }
#pragma GCC unroll 32
  for (int t = 0; t < KI * KW; ++t) sums[t] = acc[t];
  if constexpr (Bias) *bias_sum = bsum;
}

/// Where dL/dz, the gradient at the convolution's output before its activation, comes from: G itself
/// (`activation` none), or dL/dy and the outputs y, G = dL/dy f'(y) formed block by block of at most
/// `block_samples` samples into `buffer` as the weight gradient reads it, so that it is written and read in
/// the cache instead of through a chunk-wide array.
template <class T>
struct OutputGradientSource {
  const T* grad = nullptr;                   ///< G, or dL/dy with an activation [m][O, OH, OW]
  const T* y = nullptr;                      ///< the outputs [m][O, OH, OW] (with an activation)
  Activation activation = Activation::none;  ///< f
  T* buffer = nullptr;                       ///< room for block_samples x OH x OW values (with an activation)
  std::int64_t block_samples = 0;            ///< at least 1 (with an activation)
};

/// Adds the weight gradient of m samples, stride 1, vectorised along the output rows, to pw [O, C, KH, KW]
/// (the pairs `table` [O, C] marks, or all when null) and, when pb is not null, the bias gradient to pb
/// [O]: from x [m][C] maps (x_step apart; maps map_step apart, in_w wide, already padded) and G [m][O, OH,
/// OW] from `source`; `sums` has room for C x KH x KW vectors. Needs with_row_vectorised_shape<T>(g.out_w,
/// g.kh, g.kw). Each sum runs over the samples in order whether or not G is formed in blocks, so both give
/// the same bits.
template <class T>
void add_row_vectorised_weight_gradient(const ConvGeometry& g, std::int64_t outputs, const std::uint8_t* table,
                                        std::int64_t m, const T* x, std::int64_t x_step, std::int64_t map_step,
                                        std::int64_t in_w, const OutputGradientSource<T>& source, Wide<T>* sums,
                                        T* pw, T* pb) {
  with_row_vectorised_shape<T>(g.out_w, g.kh, g.kw, [&](auto ow, auto kh, auto kw) {
    constexpr int OW = decltype(ow)::value, KH = decltype(kh)::value, KW = decltype(kw)::value;
    constexpr int KI = std::min(KH, RowVectorisedBlocking<T, OW, KW>::KI);
    const std::int64_t positions = g.positions(), out_size = outputs * positions;
    const bool formed = source.activation != Activation::none;
    const std::int64_t block = formed ? source.block_samples : std::max<std::int64_t>(m, 1);
    const auto connected = [&](std::int64_t o, std::int64_t c) { return !table || table[o * g.channels + c]; };
    for (std::int64_t o = 0; o < outputs; ++o) {
      Wide<T> bias_sum{};
      std::fill_n(sums, g.channels * KH * KW, Wide<T>{});
      for (std::int64_t s0 = 0; s0 < m; s0 += block) {
        const std::int64_t count = std::min(block, m - s0);
        const T* grad = source.grad + s0 * out_size + o * positions;
        std::int64_t g_step = out_size;
        if (formed) {
          for (std::int64_t s = 0; s < count; ++s)
            activation_gradient(source.activation, source.y + s0 * out_size + o * positions + s * out_size,
                                grad + s * out_size, source.buffer + s * positions, positions);
          grad = source.buffer;
          g_step = positions;
        }
        bool bias_pending = pb != nullptr;  // summed by the map's first pass
        for (std::int64_t c = 0; c < g.channels; ++c) {
          if (!connected(o, c)) continue;
          for (std::int64_t ki0 = 0; ki0 < KH; ki0 += KI)
            with_count<KI>(std::min<std::int64_t>(KI, KH - ki0), [&](auto rows) {
              const auto pass = [&](auto with_bias) {
                row_vectorised_weight_rows<T, OW, KW, decltype(rows)::value, decltype(with_bias)::value>(
                    g.out_h, in_w, count, x + s0 * x_step + c * map_step + ki0 * in_w, x_step, grad, g_step,
                    sums + c * KH * KW + ki0 * KW, with_bias ? &bias_sum : nullptr);
              };
              if (bias_pending) pass(std::true_type{});
              else pass(std::false_type{});
              bias_pending = false;
            });
        }
      }
      for (std::int64_t c = 0; c < g.channels; ++c) {
        if (!connected(o, c)) continue;
        T* dst = pw + (o * g.channels + c) * KH * KW;
        for (int t = 0; t < KH * KW; ++t) dst[t] += wide_lane_sum<T>(sums[c * KH * KW + t]);
      }
      if (pb) pb[o] += wide_lane_sum<T>(bias_sum);  // (every map reads an input: ConnectionTable checks)
    }
  });
}

}  // namespace ag::kernels
