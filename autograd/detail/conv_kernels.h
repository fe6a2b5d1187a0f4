#pragma once
/// Internal kernels of conv2d for one sample: im2col and its adjoint in two layouts, and register-blocked
/// products whose innermost loops have compile-time trip counts over contiguous memory, so the compiler
/// keeps the accumulators in vector registers (AVX2/AVX-512 with FMA under -march=native).
///
/// Layouts of the unrolled input ("columns") of a sample, with K = C kh kw taps and P = OH OW positions:
///   channel-major col[K,P]:  col[(c kh + ki) kw + kj, i OW + j] = x[c, i s + ki - pad, j s + kj - pad]
///   patch-major   col[P,K]:  the transpose (each row one receptive field), for outputs of few positions.
/// Both are 0 where the tap falls in the zero padding. Tap order matches the weight's [O,C,kh,kw] layout.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "autograd/detail/batch_kernels.h"

namespace ag::detail {

/// A half-open range [begin, end) of summation indices.
struct Range {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  bool operator==(const Range&) const = default;
};

/// Rows [first, last) of a product that all sum over the same index ranges `ks` (with a connection table,
/// rows whose maps are connected to the same maps; without one, all rows and the single range [0, K)).
struct RowGroup {
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::vector<Range> ks;
};

/// The geometry of one sample's convolution.
struct ConvGeometry {
  std::int64_t channels = 0, height = 0, width = 0;  // C, H, W of the input
  std::int64_t kh = 0, kw = 0, stride = 1, padding = 0;
  std::int64_t out_h = 0, out_w = 0;
  std::int64_t taps() const { return channels * kh * kw; }  // K
  std::int64_t positions() const { return out_h * out_w; }  // P
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

/// Writes the channel-major columns col[K,P] of one sample x[C,H,W].
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* col) {
  const std::int64_t s = g.stride, ow = g.out_w, positions = g.positions();
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t ki = 0; ki < g.kh; ++ki)
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        T* row = col + ((c * g.kh + ki) * g.kw + kj) * positions;
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
            std::copy(src + valid.begin, src + valid.end, dst + valid.begin);
          else
            for (std::int64_t j = valid.begin; j < valid.end; ++j) dst[j] = src[j * s];
          std::fill(dst + valid.end, dst + ow, T(0));
        }
      }
}

/// Adds channel-major columns col[K,P] back into x[C,H,W] (the adjoint of im2col; padding taps dropped).
template <class T>
void col2im_add(const ConvGeometry& g, const T* col, T* x) {
  const std::int64_t s = g.stride, ow = g.out_w, positions = g.positions();
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t ki = 0; ki < g.kh; ++ki)
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * positions;
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

/// Writes the patch-major columns col[P,K] of one sample x[C,H,W].
template <class T>
void im2col_patches(const ConvGeometry& g, const T* x, T* col) {
  const std::int64_t taps = g.taps();
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

/// The column width of one panel block: two vector registers.
template <class T>
inline constexpr int kPanelColumns = 2 * kLanes<T>;

/// C[r, j] (= or +=) sum over k in ks of A(r,k) B[k, j], for r < R and j < cols (cols <= NC), where
/// A(r,k) = a[r a_rs + k a_ks], B rows are ldb apart and C rows ldc apart. When cols == NC the
/// column loops have a compile-time trip count, and the R x NC accumulators stay in registers.
template <class T, int R, int NC, bool kFull>
inline void panel_block(const std::vector<Range>& ks, const T* a, std::int64_t a_rs, std::int64_t a_ks, const T* b,
                        std::int64_t ldb, T* c, std::int64_t ldc, std::int64_t cols, bool accumulate) {
  const std::int64_t width = kFull ? NC : cols;
  T acc[R][NC];
  for (int r = 0; r < R; ++r)
    for (std::int64_t j = 0; j < width; ++j) acc[r][j] = accumulate ? c[r * ldc + j] : T(0);
  for (const Range& range : ks)
    for (std::int64_t k = range.begin; k < range.end; ++k) {
      const T* brow = b + k * ldb;
      for (int r = 0; r < R; ++r) {
        const T av = a[r * a_rs + k * a_ks];
        for (std::int64_t j = 0; j < width; ++j) acc[r][j] += av * brow[j];
      }
    }
  for (int r = 0; r < R; ++r)
    for (std::int64_t j = 0; j < width; ++j) c[r * ldc + j] = acc[r][j];
}

template <class T, int R>
inline void panel_rows(const std::vector<Range>& ks, std::int64_t cols, const T* a, std::int64_t a_rs,
                       std::int64_t a_ks, const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool accumulate) {
  constexpr int NC = kPanelColumns<T>;
  std::int64_t j = 0;
  for (; j + NC <= cols; j += NC)
    panel_block<T, R, NC, true>(ks, a, a_rs, a_ks, b + j, ldb, c + j, ldc, NC, accumulate);
  if (j < cols) panel_block<T, R, NC, false>(ks, a, a_rs, a_ks, b + j, ldb, c + j, ldc, cols - j, accumulate);
}

/// For the rows r of `rows`: C[r, 0..cols) (= or +=) sum over k in rows.ks of A(r,k) B[k, 0..cols), with
/// A(r,k) = a[r a_rs + k a_ks] (r counted from 0 at rows.first) and C's row r at c + r ldc. Rows go in
/// blocks of 4 sharing each load of B.
template <class T>
void panel_product(const RowGroup& rows, std::int64_t cols, const T* a, std::int64_t a_rs, std::int64_t a_ks,
                   const T* b, std::int64_t ldb, T* c, std::int64_t ldc, bool accumulate) {
  std::int64_t r = 0;
  const std::int64_t n = rows.last - rows.first;
  for (; r + 4 <= n; r += 4) panel_rows<T, 4>(rows.ks, cols, a + r * a_rs, a_rs, a_ks, b, ldb, c + r * ldc, ldc, accumulate);
  switch (n - r) {
    case 3: panel_rows<T, 3>(rows.ks, cols, a + r * a_rs, a_rs, a_ks, b, ldb, c + r * ldc, ldc, accumulate); break;
    case 2: panel_rows<T, 2>(rows.ks, cols, a + r * a_rs, a_rs, a_ks, b, ldb, c + r * ldc, ldc, accumulate); break;
    case 1: panel_rows<T, 1>(rows.ks, cols, a + r * a_rs, a_rs, a_ks, b, ldb, c + r * ldc, ldc, accumulate); break;
    default: break;
  }
}

/// C[u, v] += sum_{p < n} A[u lda + p] B[v ldb + p] for u < RU, v < RV: RU x RV dot products sharing
/// their loads, each accumulated in kLanes<T> interleaved partial sums added in a fixed order.
template <class T, int RU, int RV>
inline void dot_block(std::int64_t n, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c,
                      std::int64_t ldc) {
  constexpr int L = kLanes<T>;
  T acc[RU][RV][L] = {};
  std::int64_t p = 0;
  for (; p + L <= n; p += L)
    for (int u = 0; u < RU; ++u)
      for (int v = 0; v < RV; ++v)
        for (int l = 0; l < L; ++l) acc[u][v][l] += a[u * lda + p + l] * b[v * ldb + p + l];
  for (int u = 0; u < RU; ++u)
    for (int v = 0; v < RV; ++v) {
      T total = 0;
      for (int l = 0; l < L; ++l) total += acc[u][v][l];
      for (std::int64_t q = p; q < n; ++q) total += a[u * lda + q] * b[v * ldb + q];
      c[u * ldc + v] += total;
    }
}

template <class T, int RU>
inline void dot_rows(const std::vector<Range>& vs, std::int64_t n, const T* a, std::int64_t lda, const T* b,
                     std::int64_t ldb, T* c, std::int64_t ldc) {
  for (const Range& range : vs) {
    std::int64_t v = range.begin;
    for (; v + 4 <= range.end; v += 4) dot_block<T, RU, 4>(n, a, lda, b + v * ldb, ldb, c + v, ldc);
    for (; v < range.end; ++v) dot_block<T, RU, 1>(n, a, lda, b + v * ldb, ldb, c + v, ldc);
  }
}

/// For the rows u of `rows` and every v in rows.ks: C[u, v] += sum_{p < n} A[u, p] B[v, p], with A's row u
/// (counted from 0 at rows.first) at a + u lda, B's row v at b + v ldb and C's row u at c + u ldc.
template <class T>
void dot_product(const RowGroup& rows, std::int64_t n, const T* a, std::int64_t lda, const T* b, std::int64_t ldb,
                 T* c, std::int64_t ldc) {
  std::int64_t u = 0;
  const std::int64_t count = rows.last - rows.first;
  for (; u + 2 <= count; u += 2) dot_rows<T, 2>(rows.ks, n, a + u * lda, lda, b, ldb, c + u * ldc, ldc);
  if (u < count) dot_rows<T, 1>(rows.ks, n, a + u * lda, lda, b, ldb, c + u * ldc, ldc);
}

}  // namespace ag::detail
