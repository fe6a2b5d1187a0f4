#pragma once
/// conv2d's register kernels vectorised over the samples (one vector holds a position's value for L =
/// kWideLanes<T> samples), the forward, dL/dx and dL/dW, for stride 1 without padding and the shapes
/// with_row_kernel_shape lists: each output map visits only the input maps it reads, and each input map
/// only the output maps that read it, so a connection table's zeros cost nothing (LeNet-5's C3 with Table I:
/// 60 of the 96 map pairs). The path that runs them for a batch is samples_vectorised.cpp.
#include <cstdint>

#include "kernels/simd.h"

namespace ag::kernels {

/// One output row of one output map for L = kWideLanes<T> samples at once, stride 1:
///   out[j L + s] = bias + sum over c in reads[0, count), ki < KH, kj < KW of
///                  w[(c KH + ki) KW + kj] x[c map_step + ki row_step + (j + kj) L + s]   for j < OW, s < L,
/// x the L samples' inputs transposed to [C, H, W, L] from the row's first position (row_step = W L,
/// map_step = H W L) and w the map's weights [C, KH, KW]. For each (c, ki) the IW = OW + KW - 1 input
/// vectors are loaded once and used by all KW taps: OW + IW + 1 vector registers. The sums run over c, ki,
/// kj in order, as direct_row's (which adds the unconnected maps' zero weights): the same bits for finite
/// inputs.
template <class T, int OW, int KW>
[[gnu::noinline]] void sample_row(const std::int64_t* reads, std::int64_t count, std::int64_t kh,
                                  std::int64_t map_step, std::int64_t row_step, const T* w, const T* x, T bias,
                                  T* out) {
  constexpr int L = kWideLanes<T>, IW = OW + KW - 1;
  Wide<T> acc[OW];
  const Wide<T> b = splat_wide(bias);
#pragma GCC unroll 32
  for (int j = 0; j < OW; ++j) acc[j] = b;
  for (std::int64_t r = 0; r < count; ++r) {
    const std::int64_t c = reads[r];
    for (std::int64_t ki = 0; ki < kh; ++ki) {
      const T* xr = x + c * map_step + ki * row_step;
      const T* wr = w + (c * kh + ki) * KW;
      Wide<T> xv[IW];
#pragma GCC unroll 32
      for (int q = 0; q < IW; ++q) xv[q] = load_wide(xr + q * L);
#pragma GCC unroll 8
      for (int kj = 0; kj < KW; ++kj) {
        const Wide<T> wv = splat_wide(wr[kj]);
#pragma GCC unroll 32
        for (int j = 0; j < OW; ++j) acc[j] = fmadd(xv[j + kj], wv, acc[j]);
      }
    }
  }
#pragma GCC unroll 32
  for (int j = 0; j < OW; ++j) store_wide(out + j * L, acc[j]);
}

/// One row of one input map's gradient for L = kWideLanes<T> samples at once, stride 1 without padding:
///   out[q L + s] = sum over o in readers[0, count), ki in [ki_begin, ki_end), kj < KW with 0 <= q - kj < OW
///                  of w[o taps + ki KW + kj] g[o map_step + (row - ki) OW L + (q - kj) L + s]   for q < IW,
/// g the L samples' dL/dz transposed to [O, OH, OW, L] (map_step = OH OW L), w the weights [O, C, KH, KW]
/// from the input map's first tap, `taps` = C KH KW apart per output map. For each (o, ki) one row of G (OW
/// vectors) is loaded and used by all KW taps, into IW = OW + KW - 1 accumulators: OW + IW + 1 vector
/// registers. The sums run over o, ki, kj in order.
template <class T, int OW, int KW>
[[gnu::noinline]] void sample_input_row(const std::int64_t* readers, std::int64_t count, std::int64_t row,
                                        std::int64_t ki_begin, std::int64_t ki_end, std::int64_t map_step,
                                        std::int64_t taps, const T* w, const T* g, T* out) {
  constexpr int L = kWideLanes<T>, IW = OW + KW - 1;
  Wide<T> acc[IW];
#pragma GCC unroll 32
  for (int q = 0; q < IW; ++q) acc[q] = Wide<T>{};
  for (std::int64_t r = 0; r < count; ++r) {
    const std::int64_t o = readers[r];
    for (std::int64_t ki = ki_begin; ki < ki_end; ++ki) {
      const T* grow = g + o * map_step + (row - ki) * OW * L;
      const T* wr = w + o * taps + ki * KW;
      Wide<T> gv[OW];
#pragma GCC unroll 32
      for (int j = 0; j < OW; ++j) gv[j] = load_wide(grow + j * L);
#pragma GCC unroll 8
      for (int kj = 0; kj < KW; ++kj) {
        const Wide<T> wv = splat_wide(wr[kj]);
#pragma GCC unroll 32
        for (int j = 0; j < OW; ++j) acc[j + kj] = fmadd(gv[j], wv, acc[j + kj]);
      }
    }
  }
#pragma GCC unroll 32
  for (int q = 0; q < IW; ++q) store_wide(out + q * L, acc[q]);
}

/// The kernel rows taken at once by sample_weight_rows: KI KW + OW + 1 vector registers with LeNet-5's C3.
inline constexpr int kSampleWeightRows = 3;

/// The weight gradient of KI kernel rows of one (output map, input map) pair for L = kWideLanes<T> samples,
/// lane s holding sample s's sums, stride 1 without padding:
///   acc[kk KW + kj] += sum over output rows i < out_h, columns j < OW of
///                      x[(i + kk) row_step + (j + kj) L] g[(i OW + j) L]   (lane by lane) for kk < KI, kj < KW,
/// x the input map [H, W, L] from the first of the KI kernel rows (row_step = W L) and g the output map's
/// dL/dz [OH, OW, L]. For each output row, G's OW vectors are loaded once and each input vector is used by
/// the KW taps that read it. Rows, then columns, in order.
template <class T, int OW, int KW, int KI>
[[gnu::noinline]] void sample_weight_rows(std::int64_t out_h, std::int64_t row_step, const T* x, const T* g,
                                          Wide<T>* acc) {
  constexpr int L = kWideLanes<T>, IW = OW + KW - 1;
  Wide<T> sums[KI * KW];
#pragma GCC unroll 32
  for (int t = 0; t < KI * KW; ++t) sums[t] = acc[t];
  for (std::int64_t i = 0; i < out_h; ++i) {
    Wide<T> gv[OW];
#pragma GCC unroll 32
    for (int j = 0; j < OW; ++j) gv[j] = load_wide(g + (i * OW + j) * L);
#pragma GCC unroll 4
    for (int kk = 0; kk < KI; ++kk) {
      const T* xr = x + (i + kk) * row_step;
#pragma GCC unroll 32
      for (int q = 0; q < IW; ++q) {
        const Wide<T> xv = load_wide(xr + q * L);
#pragma GCC unroll 8
        for (int kj = 0; kj < KW; ++kj)
          if (q - kj >= 0 && q - kj < OW) sums[kk * KW + kj] = fmadd(xv, gv[q - kj], sums[kk * KW + kj]);
      }
    }
  }
#pragma GCC unroll 32
  for (int t = 0; t < KI * KW; ++t) acc[t] = sums[t];
}

}  // namespace ag::kernels
