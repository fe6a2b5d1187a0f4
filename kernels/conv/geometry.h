#pragma once
/// conv2d's geometry of one sample, and im2col and its adjoint in two layouts.
///
/// The unrolled input ("columns") of a sample, with K = C kh kw taps and P = OH OW positions:
///   channel-major col[K,P]:  col[(c kh + ki) kw + kj, i OW + j] = x[c, i s + ki - pad, j s + kj - pad]
///   patch-major   col[P,K]:  the transpose (each row one receptive field), for outputs of few positions.
/// Both are 0 where the tap falls in the zero padding. Tap order matches the weight's [O,C,kh,kw] layout.
#include <algorithm>
#include <cassert>
#include <cstdint>

#include "kernels/products.h"
#include "kernels/simd.h"

namespace ag::kernels {

/// The geometry of one sample's convolution: output (i, j) tap (ki, kj) reads input row
/// i stride_h + ki dilation_h - pad_h and column j stride_w + kj dilation_w - pad_w.
struct ConvGeometry {
  std::int64_t channels = 0, height = 0, width = 0;  // C, H, W of the input
  std::int64_t kh = 0, kw = 0;
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  std::int64_t out_h = 0, out_w = 0;
  std::int64_t taps() const { return channels * kh * kw; }  // K
  std::int64_t positions() const { return out_h * out_w; }  // P
  std::int64_t padded_h() const { return height + 2 * pad_h; }  // the zero-padded input's rows
  std::int64_t padded_w() const { return width + 2 * pad_w; }   // and columns
  /// True when both axes share one stride and one padding, without dilation: the geometry the fast paths
  /// serve (the plan sends any other to the reference path), where stride() and padding() are the axes'.
  bool uniform() const { return stride_h == stride_w && pad_h == pad_w && dilation_h == 1 && dilation_w == 1; }
  std::int64_t stride() const { return stride_h; }   // of a uniform geometry
  std::int64_t padding() const { return pad_h; }     // of a uniform geometry
  /// True when the one receptive field is the whole unpadded input (C5: 5x5 kernels on 5x5 maps): then a
  /// sample's patch-major columns col[1,K] are x[C,H,W] itself, in the same order.
  bool patch_is_input() const { return out_h == 1 && out_w == 1 && padding() == 0 && kh == height && kw == width; }
  /// The output columns j whose tap kj reads inside the input row: [begin, end), possibly empty (uniform).
  Range valid_columns(std::int64_t kj) const {
    const std::int64_t s = stride_w, lo = pad_w - kj;  // need j s >= lo and j s <= width - 1 + lo
    Range r;
    r.begin = lo > 0 ? (lo + s - 1) / s : 0;
    r.end = width - 1 + lo >= 0 ? std::min(out_w, (width - 1 + lo) / s + 1) : 0;
    if (r.end < r.begin) r.end = r.begin;
    return r;
  }
};

/// Writes the channel-major columns col[K,P] of one sample x[C,H,W], rows `ld` >= P apart (columns P..ld
/// are left as they are: the caller zeroes them once so that padded rows can be read as whole vectors).
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* col, std::int64_t ld) {
  const std::int64_t s = g.stride(), ow = g.out_w;
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t ki = 0; ki < g.kh; ++ki)
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        T* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
        const Range valid = g.valid_columns(kj);
        for (std::int64_t i = 0; i < g.out_h; ++i) {
          T* dst = row + i * ow;
          const std::int64_t y = i * s + ki - g.padding();
          if (y < 0 || y >= g.height) {
            std::fill(dst, dst + ow, T(0));
            continue;
          }
          const T* src = x + (c * g.height + y) * g.width + kj - g.padding();
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
  const std::int64_t s = g.stride(), ow = g.out_w;
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t ki = 0; ki < g.kh; ++ki)
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * ld;
        const Range valid = g.valid_columns(kj);
        for (std::int64_t i = 0; i < g.out_h; ++i) {
          const std::int64_t y = i * s + ki - g.padding();
          if (y < 0 || y >= g.height) continue;
          const T* src = row + i * ow;
          T* dst = x + (c * g.height + y) * g.width + kj - g.padding();
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
      const std::int64_t x0 = j * g.stride() - g.padding();
      const std::int64_t kj0 = std::max<std::int64_t>(0, -x0), kj1 = std::min(g.kw, g.width - x0);
      for (std::int64_t c = 0; c < g.channels; ++c)
        for (std::int64_t ki = 0; ki < g.kh; ++ki) {
          T* dst = patch + (c * g.kh + ki) * g.kw;
          const std::int64_t y = i * g.stride() + ki - g.padding();
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
      const std::int64_t x0 = j * g.stride() - g.padding();
      const std::int64_t kj0 = std::max<std::int64_t>(0, -x0), kj1 = std::min(g.kw, g.width - x0);
      for (std::int64_t c = 0; c < g.channels; ++c)
        for (std::int64_t ki = 0; ki < g.kh; ++ki) {
          const std::int64_t y = i * g.stride() + ki - g.padding();
          if (y < 0 || y >= g.height) continue;
          const T* src = patch + (c * g.kh + ki) * g.kw;
          T* dst = x + (c * g.height + y) * g.width + x0;
          for (std::int64_t kj = kj0; kj < kj1; ++kj) dst[kj] += src[kj];
        }
    }
}

}  // namespace ag::kernels
