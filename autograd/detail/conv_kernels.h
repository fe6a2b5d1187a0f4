#pragma once
/// Internal kernels of conv2d: the geometry of a call, and im2col and its adjoint in two layouts (the
/// products are in product_kernels.h, the kernels vectorised over the output maps in
/// maps_vectorised_kernels.h).
///
/// The unrolled input ("columns") of a sample, with K = C kh kw taps and P = OH OW positions:
///   channel-major col[K,P]:  col[(c kh + ki) kw + kj, i OW + j] = x[c, i s + ki - pad, j s + kj - pad]
///   patch-major   col[P,K]:  the transpose (each row one receptive field), for outputs of few positions.
/// Both are 0 where the tap falls in the zero padding. Tap order matches the weight's [O,C,kh,kw] layout.
#include <algorithm>
#include <cassert>
#include <cstdint>

#include "autograd/detail/batch_kernels.h"
#include "autograd/detail/product_kernels.h"

namespace ag::detail {

/// The geometry of one sample's convolution.
struct ConvGeometry {
  std::int64_t channels = 0, height = 0, width = 0;  // C, H, W of the input
  std::int64_t kh = 0, kw = 0, stride = 1, padding = 0;
  std::int64_t out_h = 0, out_w = 0;
  std::int64_t taps() const { return channels * kh * kw; }  // K
  std::int64_t positions() const { return out_h * out_w; }  // P
  std::int64_t padded_h() const { return height + 2 * padding; }  // the zero-padded input's rows
  std::int64_t padded_w() const { return width + 2 * padding; }   // and columns
  /// True when the one receptive field is the whole unpadded input (C5: 5x5 kernels on 5x5 maps): then a
  /// sample's patch-major columns col[1,K] are x[C,H,W] itself, in the same order.
  bool patch_is_input() const { return out_h == 1 && out_w == 1 && padding == 0 && kh == height && kw == width; }
  /// The output columns j whose tap kj reads inside the input row: [begin, end), possibly empty.
  Range valid_columns(std::int64_t kj) const {
    const std::int64_t lo = padding - kj;  // need j s >= lo and j s <= width - 1 + lo
    Range r;
    r.begin = lo > 0 ? (lo + stride - 1) / stride : 0;
    r.end = width - 1 + lo >= 0 ? std::min(out_w, (width - 1 + lo) / stride + 1) : 0;
    if (r.end < r.begin) r.end = r.begin;
    return r;
  }
};

/// Writes the channel-major columns col[K,P] of one sample x[C,H,W], rows `ld` >= P apart (columns P..ld
/// are left as they are: the caller zeroes them once so that padded rows can be read as whole vectors).
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* col, std::int64_t ld) {
  const std::int64_t s = g.stride, ow = g.out_w;
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t ki = 0; ki < g.kh; ++ki)
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        T* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
        const Range valid = g.valid_columns(kj);
        for (std::int64_t i = 0; i < g.out_h; ++i) {
          T* dst = row + i * ow;
          const std::int64_t y = i * s + ki - g.padding;
          if (y < 0 || y >= g.height) {
            std::fill(dst, dst + ow, T(0));
            continue;
          }
          const T* src = x + (c * g.height + y) * g.width + kj - g.padding;
          std::fill(dst, dst + valid.begin, T(0));
          if (s == 1)
            copy_short(src + valid.begin, valid.end - valid.begin, dst + valid.begin);
          else
            for (std::int64_t j = valid.begin; j < valid.end; ++j) dst[j] = src[j * s];
          std::fill(dst + valid.end, dst + ow, T(0));
        }
      }
}

/// Adds channel-major columns col[K,P] (rows `ld` apart) back into x[C,H,W]: the adjoint of im2col,
/// dropping the taps that fall in the padding.
template <class T>
void col2im_add(const ConvGeometry& g, const T* col, std::int64_t ld, T* x) {
  const std::int64_t s = g.stride, ow = g.out_w;
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t ki = 0; ki < g.kh; ++ki)
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
        const Range valid = g.valid_columns(kj);
        for (std::int64_t i = 0; i < g.out_h; ++i) {
          const std::int64_t y = i * s + ki - g.padding;
          if (y < 0 || y >= g.height) continue;
          const T* src = row + i * ow;
          T* dst = x + (c * g.height + y) * g.width + kj - g.padding;
          if (s == 1)
            for (std::int64_t j = valid.begin; j < valid.end; ++j) dst[j] += src[j];
          else
            for (std::int64_t j = valid.begin; j < valid.end; ++j) dst[j * s] += src[j];
        }
      }
}

/// Writes the patch-major columns col[P,K] of one sample x[C,H,W], rows `ld` >= K apart (ld = 0 means K;
/// columns K..ld of each row are left as they are).
template <class T>
void im2col_patches(const ConvGeometry& g, const T* x, T* col, std::int64_t ld = 0) {
  const std::int64_t taps = ld > 0 ? ld : g.taps();
  for (std::int64_t i = 0; i < g.out_h; ++i)
    for (std::int64_t j = 0; j < g.out_w; ++j) {
      T* patch = col + (i * g.out_w + j) * taps;
      const std::int64_t x0 = j * g.stride - g.padding;
      const std::int64_t kj0 = std::max<std::int64_t>(0, -x0), kj1 = std::min(g.kw, g.width - x0);
      for (std::int64_t c = 0; c < g.channels; ++c)
        for (std::int64_t ki = 0; ki < g.kh; ++ki) {
          T* dst = patch + (c * g.kh + ki) * g.kw;
          const std::int64_t y = i * g.stride + ki - g.padding;
          if (y < 0 || y >= g.height || kj1 <= kj0) {
            std::fill(dst, dst + g.kw, T(0));
            continue;
          }
          const T* src = x + (c * g.height + y) * g.width + x0;
          std::fill(dst, dst + kj0, T(0));
          std::copy(src + kj0, src + kj1, dst + kj0);
          std::fill(dst + kj1, dst + g.kw, T(0));
        }
    }
}

/// Adds patch-major columns col[P,K] back into x[C,H,W] (the adjoint of im2col_patches).
template <class T>
void col2im_patches_add(const ConvGeometry& g, const T* col, T* x) {
  const std::int64_t taps = g.taps();
  for (std::int64_t i = 0; i < g.out_h; ++i)
    for (std::int64_t j = 0; j < g.out_w; ++j) {
      const T* patch = col + (i * g.out_w + j) * taps;
      const std::int64_t x0 = j * g.stride - g.padding;
      const std::int64_t kj0 = std::max<std::int64_t>(0, -x0), kj1 = std::min(g.kw, g.width - x0);
      for (std::int64_t c = 0; c < g.channels; ++c)
        for (std::int64_t ki = 0; ki < g.kh; ++ki) {
          const std::int64_t y = i * g.stride + ki - g.padding;
          if (y < 0 || y >= g.height) continue;
          const T* src = patch + (c * g.kh + ki) * g.kw;
          T* dst = x + (c * g.height + y) * g.width + x0;
          for (std::int64_t kj = kj0; kj < kj1; ++kj) dst[kj] += src[kj];
        }
    }
}

/// How far before and after its grid's columns a row of the shifted layout's column gradient dcol must read
/// as 0 for gather_shifted_adjoint: the largest tap offset ((kh-1) Wp + kw-1) each way, in whole vectors.
template <class T>
inline std::int64_t shifted_adjoint_margin(const ConvGeometry& g, std::int64_t padded_w) {
  const std::int64_t lanes = kWideLanes<T>, reach = (g.kh - 1) * padded_w + g.kw - 1;
  return (reach + lanes - 1) / lanes * lanes;
}

/// The most output vectors gather_shifted_adjoint sums at once (independent sums, one loop over the taps).
inline constexpr int kGatherVectors = 8;

/// out[v] = sum over taps (ki, kj) in order of rows[(ki kw + kj) ld + t[v] - ki Wp - kj], for the NV vectors
/// (of L = kWideLanes<T> lanes) starting at positions t[v].
template <class T, int NV>
[[gnu::noinline]] void gather_vectors(const T* rows, std::int64_t ld, std::int64_t kh, std::int64_t kw,
                                      std::int64_t padded_w, const std::int64_t* t, T* const* out) {
  Wide<T> acc[NV] = {};
  for (std::int64_t ki = 0; ki < kh; ++ki)
    for (std::int64_t kj = 0; kj < kw; ++kj) {
      const T* row = rows + (ki * kw + kj) * ld - ki * padded_w - kj;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[v] += load_wide(row + t[v]);
    }
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) store_wide(out[v], acc[v]);
}

/// The adjoint of the shifted layout for one input map of one sample, gathered rather than scattered:
///   dx[y, x] = sum_{ki, kj} dcol[ki kw + kj][(y + pad - ki) Wp + (x + pad - kj)]
/// for the map's dx [H,W], stride 1 and padded width Wp; dcol [kh kw, ...] holds the rows of the map's taps,
/// `ld` apart, each the Wp-wide output grid (0 in its dropped columns, so that an index that wraps into the
/// previous row reads 0), reading as 0 for shifted_adjoint_margin() values before and after it. Each output
/// value is one sum over the taps in order: no read-modify-write of dx per tap (tap k+1's stores overlapping
/// tap k's one value apart stalled the scatter form's loads), and nothing to zero.
template <class T>
void gather_shifted_adjoint(const ConvGeometry& g, std::int64_t padded_w, const T* dcol, std::int64_t ld, T* dx) {
  assert(g.stride == 1);
  constexpr int L = kWideLanes<T>;
  const std::int64_t kh = g.kh, kw = g.kw, map = g.height * g.width;
  // Without padding the padded map is the input map, so a whole map is one run of outputs; else each row.
  const bool whole_maps = g.padding == 0;
  const std::int64_t runs = whole_maps ? 1 : g.height, run = whole_maps ? map : g.width;
  for (std::int64_t r = 0; r < runs; ++r) {
    const std::int64_t t0 = whole_maps ? 0 : (r + g.padding) * padded_w + g.padding;
    T* out = dx + r * run;
    if (run < L) {
      for (std::int64_t i = 0; i < run; ++i) {
        T total = 0;
        for (std::int64_t k = 0; k < kh * kw; ++k)
          total += dcol[k * ld + t0 + i - (k / kw) * padded_w - k % kw];
        out[i] = total;
      }
      continue;
    }
    // Whole vectors, the last one moved back to end at `run` (it recomputes a few values, bit for bit),
    // kGatherVectors at a time.
    const std::int64_t vectors = (run + L - 1) / L;
    for (std::int64_t v0 = 0; v0 < vectors; v0 += kGatherVectors) {
      const std::int64_t count = std::min<std::int64_t>(kGatherVectors, vectors - v0);
      std::int64_t t[kGatherVectors];
      T* outs[kGatherVectors];
      for (std::int64_t v = 0; v < count; ++v) {
        const std::int64_t at = std::min((v0 + v) * L, run - L);
        t[v] = t0 + at;
        outs[v] = out + at;
      }
      with_count<kGatherVectors>(count, [&](auto n) {
        gather_vectors<T, decltype(n)::value>(dcol, ld, kh, kw, padded_w, t, outs);
      });
    }
  }
}

}  // namespace ag::detail
