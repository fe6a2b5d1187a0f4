#pragma once
/// conv2d's register kernels vectorised over the output maps (one vector holds L = kWideLanes<T> maps of a
/// position): the forward, dL/dW and dL/dx tap by tap, and, for the shapes with_row_kernel_shape lists
/// (specialised_shapes.h), with a whole output row in registers. The path that runs them for a batch is
/// maps_vectorised.cpp.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <type_traits>

#include "kernels/conv/geometry.h"
#include "kernels/conv/specialised_shapes.h"
#include "kernels/simd.h"
#include "kernels/transpose.h"

namespace ag::kernels {

/// The most output positions of one block of the output-vectorised convolution (one accumulator each).
inline constexpr int kDirectPositions = 12;

/// Output-vectorised convolution of R consecutive positions of one output row, for L = kWideLanes<T>
/// output maps at once: out[r L + l] = bias[l] + sum_k wt[k L + l] x[offsets[k] + r] for r < R, l < L, k < K.
/// x is the padded input seen from the block's first position, offsets[k] tap k's shift in it (the shifted
/// layout's tap offsets), wt the weights transposed to [K, L]. Each tap costs one vector load of wt and R
/// broadcasts of x for R multiply-adds, with nothing wasted on the shifted grid's dropped columns.
template <class T, int R>
[[gnu::noinline]] void direct_block(std::int64_t taps, const T* wt, const T* x, const std::int64_t* offsets,
                                    const T* bias, T* out) {
  constexpr int L = kWideLanes<T>;
  Wide<T> acc[R];
  const Wide<T> b = load_wide(bias);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = b;
  for (std::int64_t k = 0; k < taps; ++k) {
    const Wide<T> wv = load_wide(wt + k * L);
    const T* xk = x + offsets[k];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[r] = fmadd(splat_wide(xk[r]), wv, acc[r]);
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) store_wide(out + r * L, acc[r]);
}

/// The weight gradient of R taps for L = kWideLanes<T> output maps at once, the transpose of direct_block:
/// acc[r][l] += sum over samples s, positions (i, j) of x_s[offsets[r] + i Wp + j] g_s[(i OW + j) L + l],
/// sample s's x and g at s x_step and s g_step, g [P, L] the output gradient transposed
/// (transpose_rows_into_block). Samples, then positions, in order; the R sums stay in registers throughout.
template <class T, int R>
[[gnu::noinline]] void direct_weight_block(const ConvGeometry& g, std::int64_t padded_w, std::int64_t samples,
                                           const T* x, std::int64_t x_step, const std::int64_t* offsets,
                                           const T* grad, std::int64_t g_step, Wide<T>* acc) {
  constexpr int L = kWideLanes<T>;
  Wide<T> sums[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) sums[r] = acc[r];
  for (std::int64_t s = 0; s < samples; ++s)
    for (std::int64_t i = 0; i < g.out_h; ++i) {
      const T* xr[R];
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) xr[r] = x + s * x_step + offsets[r] + i * padded_w;
      const T* gi = grad + s * g_step + i * g.out_w * L;
      for (std::int64_t j = 0; j < g.out_w; ++j) {
        const Wide<T> gv = load_wide(gi + j * L);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) sums[r] = fmadd(splat_wide(xr[r][j]), gv, sums[r]);
      }
    }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = sums[r];
}

/// The weight gradient of KI kernel rows [ki0, ki0 + KI) of one input map for L = kWideLanes<T> output maps,
/// stride 1 (the weight gradient of direct_row): acc[kk KW + kj][l] += sum over samples s, output rows i,
/// columns j of x_s[(i + ki0 + kk) Wp + j + kj] g_s[(i OW + j) L + l], x the map's padded input. For each
/// output row, G's OW vectors are loaded once and each input value is broadcast once for the KW taps that
/// read it. Samples, rows, columns in order: the same sums, to the bit, as direct_weight_block's.
template <class T, int OW, int KW, int KI>
[[gnu::noinline]] void direct_weight_row(std::int64_t out_h, std::int64_t padded_w, std::int64_t samples, const T* x,
                                         std::int64_t x_step, const T* grad, std::int64_t g_step, Wide<T>* acc) {
  constexpr int L = kWideLanes<T>, IW = OW + KW - 1;
  Wide<T> sums[KI * KW];
#pragma GCC unroll 32
  for (int t = 0; t < KI * KW; ++t) sums[t] = acc[t];
  for (std::int64_t s = 0; s < samples; ++s)
    for (std::int64_t i = 0; i < out_h; ++i) {
      const T* gi = grad + s * g_step + i * OW * L;
      Wide<T> gv[OW];
#pragma GCC unroll 32
      for (int j = 0; j < OW; ++j) gv[j] = load_wide(gi + j * L);
#pragma GCC unroll 4
      for (int kk = 0; kk < KI; ++kk) {
        const T* xr = x + s * x_step + (i + kk) * padded_w;
#pragma GCC unroll 32
        for (int q = 0; q < IW; ++q) {
          const Wide<T> xb = splat_wide(xr[q]);
#pragma GCC unroll 8
          for (int kj = 0; kj < KW; ++kj)
            if (q - kj >= 0 && q - kj < OW) sums[kk * KW + kj] = fmadd(xb, gv[q - kj], sums[kk * KW + kj]);
        }
      }
    }
#pragma GCC unroll 32
  for (int t = 0; t < KI * KW; ++t) acc[t] = sums[t];
}

/// The kernel rows taken at once by direct_weight_row: KI KW + OW + 1 vector registers with LeNet-5's C3.
inline constexpr int kWeightRowsAtOnce = 3;

/// The weight gradient of all K taps for the L maps whose transposed output gradients `grad` holds: acc [K]
/// vectors. direct_weight_row for the shapes with_row_kernel_shape serves, else direct_weight_block,
/// kDirectPositions taps at a time.
template <class T>
void direct_weight_gradient(const ConvGeometry& g, std::int64_t padded_w, std::int64_t samples, const T* x,
                            std::int64_t x_step, const std::int64_t* offsets, const T* grad, std::int64_t g_step,
                            Wide<T>* acc) {
  const std::int64_t taps = g.taps();
  const bool by_rows = g.stride() == 1 && with_row_kernel_shape(g.out_w, g.kw, [&](auto ow, auto kw) {
    constexpr int OW = decltype(ow)::value, KW = decltype(kw)::value;
    const std::int64_t map_step = g.padded_h() * padded_w;
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t ki0 = 0; ki0 < g.kh; ki0 += kWeightRowsAtOnce)
        with_count<kWeightRowsAtOnce>(std::min<std::int64_t>(kWeightRowsAtOnce, g.kh - ki0), [&](auto rows) {
          direct_weight_row<T, OW, KW, decltype(rows)::value>(g.out_h, padded_w, samples,
                                                               x + c * map_step + ki0 * padded_w, x_step, grad,
                                                               g_step, acc + (c * g.kh + ki0) * KW);
        });
  });
  if (by_rows) return;
  for (std::int64_t k0 = 0; k0 < taps; k0 += kDirectPositions) {
    const std::int64_t r = std::min<std::int64_t>(kDirectPositions, taps - k0);
    with_count<kDirectPositions>(r, [&](auto count) {
      direct_weight_block<T, decltype(count)::value>(g, padded_w, samples, x, x_step, offsets + k0, grad, g_step,
                                                      acc + k0);
    });
  }
}

/// The input gradient of one row of one input map for a stride-1 convolution, vectorised over L =
/// kWideLanes<T> output maps: for the row's padded columns q < IW = OW + KW - 1,
///   out[q] = sum over ki in [ki_begin, ki_end), kj < KW, l < L of
///            wt[(ki KW + kj) L + l] gt[((row - ki) OW + q - kj) L + l]
/// (only the terms with 0 <= q - kj < OW), gt one sample's output gradient transposed to [OH OW, L] and wt
/// this input map's weights for the L maps [KH KW, L]. For each ki, one output row of G is loaded (OW
/// vectors) and used by all KW taps of the row: every multiply-add is a needed one (no padding, no grid),
/// held in IW accumulators whose lanes are summed at the end. OW + IW + 1 vector registers.
template <class T, int OW, int KW>
[[gnu::noinline]] void direct_input_row(std::int64_t row, std::int64_t ki_begin, std::int64_t ki_end, const T* gt,
                                        const T* wt, T* out) {
  constexpr int L = kWideLanes<T>, IW = OW + KW - 1;
  Wide<T> acc[IW];
#pragma GCC unroll 32
  for (int q = 0; q < IW; ++q) acc[q] = Wide<T>{};
  for (std::int64_t ki = ki_begin; ki < ki_end; ++ki) {
    const T* grow = gt + (row - ki) * OW * L;
    Wide<T> gv[OW];
#pragma GCC unroll 32
    for (int j = 0; j < OW; ++j) gv[j] = load_wide(grow + j * L);
#pragma GCC unroll 8
    for (int kj = 0; kj < KW; ++kj) {
      const Wide<T> wv = load_wide(wt + (ki * KW + kj) * L);
#pragma GCC unroll 32
      for (int j = 0; j < OW; ++j) acc[j + kj] = fmadd(wv, gv[j], acc[j + kj]);
    }
  }
  // The IW sums, L at a time (lanes past IW of the last group are 0 and dropped).
#pragma GCC unroll 4
  for (int q0 = 0; q0 < IW; q0 += L) {
    Wide<T> v[L] = {};
#pragma GCC unroll 32
    for (int q = 0; q < L; ++q)
      if (q0 + q < IW) v[q] = acc[q0 + q];
    const Wide<T> sums = sum_lanes_each<T>(v);
    for (int q = 0; q < L && q0 + q < IW; ++q) out[q0 + q] = sums[q];
  }
}

/// dL/dx of one sample for a stride-1 convolution, vectorised over the output maps (direct_input_row):
/// dx [C, H, W] = (or +=, when `accumulate`) the sums over the L maps whose transposed output gradient gt
/// [OH OW, L] and weights wt [K, L] (wt from pack_for_maps_vectorised) are given. Needs
/// with_row_kernel_shape(g.out_w, g.kw).
template <class T>
void direct_input_gradient(const ConvGeometry& g, const T* gt, const T* wt, T* dx, bool accumulate) {
  assert(g.stride() == 1);
  with_row_kernel_shape(g.out_w, g.kw, [&](auto ow, auto kw) {
    constexpr int IW = decltype(ow)::value + decltype(kw)::value - 1;
    T sums[IW];
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t y = 0; y < g.height; ++y) {
        // Padded row y + pad reads output rows y + pad - ki, for the ki that land in [0, OH).
        const std::int64_t row = y + g.padding();
        const std::int64_t ki_begin = std::max<std::int64_t>(0, row - g.out_h + 1), ki_end = std::min(g.kh, row + 1);
        direct_input_row<T, decltype(ow)::value, decltype(kw)::value>(row, ki_begin, ki_end, gt,
                                                                      wt + c * g.kh * g.kw * kWideLanes<T>, sums);
        T* dst = dx + (c * g.height + y) * g.width;
        const T* row_sums = sums + g.padding();  // the padded row's interior
        for (std::int64_t x = 0; x < g.width; ++x) dst[x] = accumulate ? dst[x] + row_sums[x] : row_sums[x];
      }
  });
}

/// One output row of a stride-1 convolution for L = kWideLanes<T> output maps at once (the forward of
/// direct_input_row): out[j L + l] = bias[l] + sum over c, ki, kj of wt[((c KH + ki) KW + kj) L + l]
/// x[(c Hp + ki) Wp + j + kj] for j < OW, x the padded input from the row's first position. For each (c, ki)
/// the input row's IW = OW + KW - 1 values are broadcast once and used by all KW taps: 19 loads for 50
/// multiply-adds with LeNet-5's C3, against 11 for 10 in direct_block.
template <class T, int OW, int KW>
[[gnu::noinline]] void direct_row(std::int64_t channels, std::int64_t kh, std::int64_t map_step, std::int64_t padded_w,
                                  const T* wt, const T* x, const T* bias, T* out) {
  constexpr int L = kWideLanes<T>, IW = OW + KW - 1;
  Wide<T> acc[OW];
  const Wide<T> b = load_wide(bias);
#pragma GCC unroll 32
  for (int j = 0; j < OW; ++j) acc[j] = b;
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t ki = 0; ki < kh; ++ki) {
      const T* xr = x + c * map_step + ki * padded_w;
      const T* w = wt + (c * kh + ki) * KW * L;
      Wide<T> xv[IW];
#pragma GCC unroll 32
      for (int q = 0; q < IW; ++q) xv[q] = splat_wide(xr[q]);
#pragma GCC unroll 8
      for (int kj = 0; kj < KW; ++kj) {
        const Wide<T> wv = load_wide(w + kj * L);
#pragma GCC unroll 32
        for (int j = 0; j < OW; ++j) acc[j] = fmadd(xv[j + kj], wv, acc[j]);
      }
    }
#pragma GCC unroll 32
  for (int j = 0; j < OW; ++j) store_wide(out + j * L, acc[j]);
}

/// One sample's convolution, stride 1, vectorised over the output maps: y[o, i, j] (y [O, OH OW]) for the
/// maps [o0, o0 + L) with o0 + L <= outputs_padded, from the padded input (Wp wide) and wt [O/L][K][L] (the
/// weights grouped by L maps and transposed, 0 where a map does not read a tap), biases padded likewise.
/// `block` [OH OW, L] is scratch; maps at or past `outputs` are dropped.
template <class T>
void direct_conv(const ConvGeometry& g, std::int64_t padded_w, const std::int64_t* offsets, const T* padded,
                 const T* wt, const T* bias, std::int64_t outputs, T* block, T* y) {
  constexpr int L = kWideLanes<T>;
  const std::int64_t taps = g.taps(), positions = g.positions();
  for (std::int64_t o0 = 0; o0 < outputs; o0 += L) {
    const T* w = wt + o0 * taps;
    const bool by_rows = with_row_kernel_shape(g.out_w, g.kw, [&](auto ow, auto kw) {
      for (std::int64_t i = 0; i < g.out_h; ++i)
        direct_row<T, decltype(ow)::value, decltype(kw)::value>(g.channels, g.kh, g.padded_h() * padded_w, padded_w,
                                                                w, padded + i * padded_w, bias + o0,
                                                                block + i * g.out_w * L);
    });
    if (!by_rows)
      for (std::int64_t i = 0; i < g.out_h; ++i)
        for (std::int64_t j0 = 0; j0 < g.out_w; j0 += kDirectPositions) {
          const std::int64_t r = std::min<std::int64_t>(kDirectPositions, g.out_w - j0);
          with_count<kDirectPositions>(r, [&](auto count) {
            direct_block<T, decltype(count)::value>(taps, w, padded + i * padded_w + j0, offsets, bias + o0,
                                                    block + (i * g.out_w + j0) * L);
          });
        }
    transpose_block_into(block, positions, std::min<std::int64_t>(L, outputs - o0), y + o0 * positions);
  }
}

}  // namespace ag::kernels
