#pragma once
/// Internal kernels of conv2d: im2col and its adjoint in two layouts, and register-blocked products whose
/// innermost loops have compile-time trip counts over contiguous memory, written with vector types so the
/// accumulators stay in vector registers (AVX2/AVX-512 with FMA under -march=native; SSE2 otherwise).
///
/// The unrolled input ("columns") of a sample, with K = C kh kw taps and P = OH OW positions:
///   channel-major col[K,P]:  col[(c kh + ki) kw + kj, i OW + j] = x[c, i s + ki - pad, j s + kj - pad]
///   patch-major   col[P,K]:  the transpose (each row one receptive field), for outputs of few positions.
/// Both are 0 where the tap falls in the zero padding. Tap order matches the weight's [O,C,kh,kw] layout.
/// The products read B by rows (RowsOf), so a row can also be any pointer, e.g. a shifted input map.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <span>
#include <vector>

#include "autograd/detail/batch_kernels.h"
#include "autograd/detail/parallel.h"

namespace ag::detail {

/// A half-open range [begin, end) of summation indices.
struct Range {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  bool operator==(const Range&) const = default;
};

/// Where the rows of a matrix operand are: row k at base + k stride, or at base + offsets[k] with a table.
template <class T>
struct RowsOf {
  const T* base = nullptr;
  std::int64_t stride = 0;
  const std::int64_t* offsets = nullptr;
  const T* row(std::int64_t k) const { return base + (offsets ? offsets[k] : k * stride); }
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

/// The rows of a product computed together by default, sharing each load of B: 6 rows x 2 vectors = 12
/// accumulators, which with the two loaded vectors and a broadcast fit in 16 vector registers.
inline constexpr int kPanelRows = 6;

/// The most rows a block may have (RowGroup::block_rows): with AVX-512's 32 vector registers, 10 x 2 = 20
/// accumulators. Worth it only for short sums, whose accumulators' loads and stores weigh more: a
/// connection table's groups on the grid (measured when LeNet-5's C3 took the grid, before its row
/// kernels: groups of the 10 maps that read one input map, summing over its 25 taps, forward 182 -> 168 us
/// at batch 64, backward 460 -> 442 us); long sums ran slower (C3 without a table, C5).
inline constexpr int kPanelRowsMax = kWideBytes == 64 ? 10 : kPanelRows;

/// For the R rows r: C_r[j + v L + l] (= or +=) sum over k in ks of A_r[k a_ks] B_k[j + v L + l] for
/// v < NV whole wide vectors of L = kWideLanes<T> lanes. R and NV are compile-time, so the accumulators live
/// in registers.
template <class T, int R, int NV>
inline void panel_block(std::span<const Range> ks, const T* const* a, std::int64_t a_ks, const RowsOf<T>& b,
                        T* const* c, std::int64_t j, bool accumulate) {
  // Local copies of the row pointers, and fully unrolled fixed-size loops, let the compiler keep all R NV
  // accumulators in registers (with the pointers behind `a` and `c` it must assume aliasing and spills).
  constexpr int L = kWideLanes<T>;
  const T* ap[R];
  T* cp[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) ap[r] = a[r], cp[r] = c[r] + j;
  Wide<T> acc[R * NV];
#pragma GCC unroll 32
  for (int i = 0; i < R * NV; ++i) acc[i] = accumulate ? load_wide(cp[i / NV] + (i % NV) * L) : Wide<T>{};
  for (const Range& range : ks)
    for (std::int64_t k = range.begin; k < range.end; ++k) {
      const T* brow = b.row(k) + j;
      Wide<T> bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = load_wide(brow + v * L);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const Wide<T> av = splat_wide(ap[r][k * a_ks]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[r * NV + v] = fmadd(av, bv[v], acc[r * NV + v]);
      }
    }
#pragma GCC unroll 32
  for (int i = 0; i < R * NV; ++i) store_wide(cp[i / NV] + (i % NV) * L, acc[i]);
}

/// B's columns [j, j + cols), cols < L = kWideLanes<T>, for the k of `ks`, packed as whole vectors: row k at
/// tail + k L, lanes past `cols` 0. In thread scratch Slot::product_tail, which only panel_product uses.
template <class T>
const T* pack_tail_columns(std::span<const Range> ks, const RowsOf<T>& b, std::int64_t j, std::int64_t cols) {
  constexpr std::int64_t L = kWideLanes<T>;
  std::int64_t rows = 0;
  for (const Range& range : ks) rows = std::max(rows, range.end);
  T* tail = thread_scratch<T>(Slot::product_tail, rows * L);
  for (const Range& range : ks)
    for (std::int64_t k = range.begin; k < range.end; ++k) {
      std::copy_n(b.row(k) + j, cols, tail + k * L);
      std::fill(tail + k * L + cols, tail + (k + 1) * L, T(0));
    }
  return tail;
}

/// panel_block for C's last `cols` < L columns from j, with B's columns packed by pack_tail_columns: one
/// vector per row, through a copy of the R rows' tails. Each value is summed in the same order as in a
/// whole block, so a column gives the same bits whether or not it falls in the tail.
template <class T, int R>
[[gnu::noinline]] void panel_tail_rows(std::span<const Range> ks, const T* const* a, std::int64_t a_ks, const T* tail,
                                       T* const* c, std::int64_t j, std::int64_t cols, bool accumulate) {
  constexpr int L = kWideLanes<T>;
  alignas(64) T rows[R][L] = {};
  T* rp[R];
  for (int r = 0; r < R; ++r) {
    rp[r] = rows[r];
    if (accumulate) std::copy_n(c[r] + j, cols, rows[r]);
  }
  panel_block<T, R, 1>(ks, a, a_ks, RowsOf<T>{tail, L}, rp, 0, accumulate);
  for (int r = 0; r < R; ++r) std::copy_n(rows[r], cols, c[r] + j);
}

/// C's R rows over `cols`, a multiple of L = kWideLanes<T>: blocks of 2 vectors, then 1.
template <class T, int R>
[[gnu::noinline]] void panel_rows(std::span<const Range> ks, std::int64_t cols, const T* const* a, std::int64_t a_ks,
                                  const RowsOf<T>& b, T* const* c, bool accumulate) {
  constexpr int L = kWideLanes<T>;
  std::int64_t j = 0;
  // A single row (a matrix-vector product, e.g. C5's input gradient at batch 1) reuses no load of B, so it
  // goes 8 vectors wide: 8 independent loads in flight per row of B, a quarter of the passes over B.
  if constexpr (R == 1)
    for (; j + 8 * L <= cols; j += 8 * L) panel_block<T, 1, 8>(ks, a, a_ks, b, c, j, accumulate);
  for (; j + 2 * L <= cols; j += 2 * L) panel_block<T, R, 2>(ks, a, a_ks, b, c, j, accumulate);
  for (; j + L <= cols; j += L) panel_block<T, R, 1>(ks, a, a_ks, b, c, j, accumulate);
}

/// Rows of a product that all sum over the same index ranges: with a connection table, e.g. the output maps
/// that read one input map, summing over that map's taps; without one, all rows and the single range [0,K).
/// `columns` lists the indices of `ks` one by one (the B rows of DotSums), filled by finish().
struct RowGroup {
  std::vector<std::int64_t> rows;
  std::vector<Range> ks;
  std::vector<std::int64_t> columns;
  int block_rows = kPanelRows;  // the rows of a product's block (at most kPanelRowsMax)
  /// Fills `columns` from `ks`; returns *this.
  RowGroup& finish() {
    columns.clear();
    for (const Range& range : ks)
      for (std::int64_t v = range.begin; v < range.end; ++v) columns.push_back(v);
    return *this;
  }
};

/// Returns the group of rows [0, n) summing over [0, k).
inline RowGroup all_rows(std::int64_t n, std::int64_t k) {
  RowGroup g;
  for (std::int64_t r = 0; r < n; ++r) g.rows.push_back(r);
  g.ks.push_back({0, k});
  return g.finish();
}

/// The rows of a product: list[i] when a list is given, else first + i (a run, with nothing to allocate).
struct RowList {
  const std::int64_t* list = nullptr;
  std::int64_t count = 0;
  std::int64_t first = 0;
  std::int64_t at(std::int64_t i) const { return list ? list[i] : first + i; }
};

/// For each row r of `rows`: C[r, 0..cols) (= or +=) sum over k in `ks` of A(r,k) B_k[0..cols), where
/// A(r,k) = a[r a_rs + k a_ks] and C's rows are ldc apart. Rows go kPanelRows at a time, columns two
/// vectors at a time; innermost, one B vector times one broadcast A value per accumulator.
template <class T>
void panel_product(RowList rows, std::span<const Range> ks, std::int64_t cols, const T* a, std::int64_t a_rs,
                   std::int64_t a_ks, const RowsOf<T>& b, T* c, std::int64_t ldc, bool accumulate,
                   int block_rows = kPanelRows) {
  const T* ap[kPanelRowsMax];
  T* cp[kPanelRowsMax];
  // Columns past the last whole vector: B's packed once here, then one vector per block of rows.
  const std::int64_t whole = cols / kWideLanes<T> * kWideLanes<T>, tail_cols = cols - whole;
  const T* tail = tail_cols ? pack_tail_columns(ks, b, whole, tail_cols) : nullptr;
  const std::int64_t n = rows.count, most = std::clamp(block_rows, 1, kPanelRowsMax);
  const std::int64_t blocks = (n + most - 1) / most;  // as few blocks as possible, of even sizes
  for (std::int64_t block = 0, first = 0; block < blocks; ++block) {
    const std::int64_t left = blocks - block;
    const std::int64_t count = (n - first + left - 1) / left;
    for (std::int64_t q = 0; q < count; ++q) {
      ap[q] = a + rows.at(first + q) * a_rs;
      cp[q] = c + rows.at(first + q) * ldc;
    }
    with_count<kPanelRowsMax>(count, [&](auto rows_now) {
      panel_rows<T, decltype(rows_now)::value>(ks, whole, ap, a_ks, b, cp, accumulate);
      if (tail) panel_tail_rows<T, decltype(rows_now)::value>(ks, ap, a_ks, tail, cp, whole, tail_cols, accumulate);
    });
    first += count;
  }
}

/// panel_product over the rows and ranges of `group`.
template <class T>
void panel_product(const RowGroup& group, std::int64_t cols, const T* a, std::int64_t a_rs, std::int64_t a_ks,
                   const RowsOf<T>& b, T* c, std::int64_t ldc, bool accumulate) {
  panel_product(RowList{group.rows.data(), static_cast<std::int64_t>(group.rows.size())}, std::span(group.ks), cols, a,
                a_rs, a_ks, b, c, ldc, accumulate, group.block_rows);
}

/// out [rows, ldo] = bias (0 where absent or past O) + A W^T, for A's rows `lda` apart and wt from
/// transpose_weights: each row of A times W^T, vectorised over the O maps. Each output sums k in order.
template <class T>
void rows_times_transposed(std::int64_t rows, std::int64_t taps, const T* a, std::int64_t lda, const T* wt,
                           std::int64_t outputs, std::int64_t ldo, const T* bias, T* out) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t o = 0; o < ldo; ++o) out[r * ldo + o] = bias && o < outputs ? bias[o] : T(0);
  const Range all_taps{0, taps};
  panel_product(RowList{nullptr, rows, 0}, std::span(&all_taps, 1), ldo, a, lda, 1, RowsOf<T>{wt, ldo}, out, ldo, true);
}

/// From how many rows (samples, or receptive fields) a product by a weight matrix W [O, K] transposes W once
/// per call and vectorises over its O outputs (rows_times_transposed); below, the transposition of O K
/// values would cost as much as the product, and dot products of W's rows are used instead.
inline constexpr std::int64_t kRowsForTransposedWeights = 16;

/// dW [O, K] = G^T X for G [rows, O] and X [rows, K] (both row-major), each value a sum over the rows in
/// order; blocks of kPanelRows rows of dW go to the threads. A whole batch's sum with no partial sums per
/// chunk of samples to write and add, so its value does not depend on the thread count either.
template <class T>
void weight_gradient_by_rows(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g, const T* x,
                             T* gw) {
  const Range all_rows{0, rows};
  const std::int64_t row_blocks = (outputs + kPanelRows - 1) / kPanelRows;
  const auto pieces = sample_chunks(row_blocks);  // whole blocks of kPanelRows outputs per piece
  parallel_for(pieces.count, [&](std::int64_t piece) {
    const std::int64_t o0 = pieces.begin(piece) * kPanelRows;
    const std::int64_t o1 = std::min(outputs, pieces.end(piece) * kPanelRows);
    panel_product(RowList{nullptr, o1 - o0, o0}, std::span(&all_rows, 1), taps, g, 1, outputs, RowsOf<T>{x, taps},
                  gw, taps, false);
  }, rows * outputs * taps / kProductMultiplyAddsPerWork);
}

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

/// For lanes j of N: a[j] where bit B of j is clear, else b[j - B] (transpose_square's upper-left and
/// lower-left B x B blocks side by side).
template <int B, class V, std::size_t... J>
inline V merge_low(const V& a, const V& b, std::index_sequence<J...>) {
  constexpr int N = sizeof...(J);
  return __builtin_shufflevector(a, b, ((J & B) == 0 ? static_cast<int>(J) : N + static_cast<int>(J) - B)...);
}
/// For lanes j of N: a[j + B] where bit B of j is clear, else b[j] (the upper-right and lower-right blocks).
template <int B, class V, std::size_t... J>
inline V merge_high(const V& a, const V& b, std::index_sequence<J...>) {
  constexpr int N = sizeof...(J);
  return __builtin_shufflevector(a, b, ((J & B) == 0 ? static_cast<int>(J) + B : N + static_cast<int>(J))...);
}

/// Transposes the N x N matrix held in N vectors of N lanes (v[r][l] becomes v[l][r]): log2 N stages, each
/// exchanging the off-diagonal B x B blocks of every 2B x 2B block with one two-source shuffle per vector.
template <class T, int B = kWideLanes<T> / 2>
inline void transpose_square(Wide<T>* v) {
  constexpr int N = kWideLanes<T>;
  if constexpr (B >= 1) {
    const auto lanes = std::make_index_sequence<static_cast<std::size_t>(N)>{};
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) {
      if ((i & B) != 0) continue;
      const Wide<T> low = merge_low<B>(v[i], v[i + B], lanes), high = merge_high<B>(v[i], v[i + B], lanes);
      v[i] = low;
      v[i + B] = high;
    }
    transpose_square<T, B / 2>(v);
  }
}

/// Writes block [P, L] (L = kWideLanes<T>) as the rows y[l] [P] of its first `maps` lanes.
template <class T>
void transpose_block_into(const T* block, std::int64_t positions, std::int64_t maps, T* y) {
  constexpr int L = kWideLanes<T>;
  if (positions < L) {
    for (std::int64_t l = 0; l < maps; ++l)
      for (std::int64_t p = 0; p < positions; ++p) y[l * positions + p] = block[p * L + l];
    return;
  }
  // L positions at a time as an L x L transpose; the last group moved back to end at P (overlapping).
  for (std::int64_t p = 0; p < positions; p += L) {
    const std::int64_t at = std::min(p, positions - L);
    Wide<T> v[L];
#pragma GCC unroll 16
    for (int r = 0; r < L; ++r) v[r] = load_wide(block + (at + r) * L);
    transpose_square<T>(v);
    for (std::int64_t l = 0; l < maps; ++l) store_wide(y + l * positions + at, v[l]);
  }
}

/// Writes the rows y[l] [P] of `maps` <= L = kWideLanes<T> maps as block [P, L] (rows `ld` >= L apart), lanes
/// past `maps` 0: the inverse of transpose_block_into.
template <class T>
void transpose_rows_into_block(const T* y, std::int64_t positions, std::int64_t maps, T* block,
                               std::int64_t ld = kWideLanes<T>) {
  constexpr int L = kWideLanes<T>;
  if (positions < L) {
    for (std::int64_t p = 0; p < positions; ++p)
      for (std::int64_t l = 0; l < L; ++l) block[p * ld + l] = l < maps ? y[l * positions + p] : T(0);
    return;
  }
  for (std::int64_t p = 0; p < positions; p += L) {
    const std::int64_t at = std::min(p, positions - L);
    Wide<T> v[L] = {};
    for (std::int64_t l = 0; l < maps; ++l) v[l] = load_wide(y + l * positions + at);
    transpose_square<T>(v);
#pragma GCC unroll 16
    for (int r = 0; r < L; ++r) store_wide(block + (at + r) * ld, v[r]);
  }
}

/// wt [K, ldo] = W^T for W [O, K], ldo >= O a multiple of kWideLanes<T>, columns O..ldo 0.
template <class T>
void transpose_weights(const T* w, std::int64_t outputs, std::int64_t taps, std::int64_t ldo, T* wt) {
  constexpr std::int64_t L = kWideLanes<T>;
  for (std::int64_t o0 = 0; o0 < ldo; o0 += L)
    transpose_rows_into_block(w + std::min(o0, outputs) * taps, taps, std::clamp<std::int64_t>(outputs - o0, 0, L),
                              wt + o0, ldo);
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

/// Calls f(std::integral_constant<int, OW>{}, std::integral_constant<int, KW>{}) and returns true when the
/// row kernels (direct_row, direct_input_row, direct_weight_row: stride 1, rows of OW outputs, KW-wide
/// kernels) are instantiated for (out_w, kw) and fit the vector registers (OW + IW + 1 of them, IW = OW +
/// KW - 1); else returns false. Instantiated for LeNet-5's C3 (10, 5); another shape is one more line here.
template <class F>
bool with_row_kernel_shape(std::int64_t out_w, std::int64_t kw, F&& f) {
  constexpr int registers = kWideBytes == 64 ? 32 : 16;
  const auto fits = [&](int ow, int k) { return ow + (ow + k - 1) + 1 <= registers; };
  if (out_w == 10 && kw == 5 && fits(10, 5)) {
    f(std::integral_constant<int, 10>{}, std::integral_constant<int, 5>{});
    return true;
  }
  return false;
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
  const bool by_rows = g.stride == 1 && with_row_kernel_shape(g.out_w, g.kw, [&](auto ow, auto kw) {
    constexpr int OW = decltype(ow)::value, KW = decltype(kw)::value;
    const std::int64_t map_step = padded_w * (g.height + 2 * g.padding);
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

/// Returns the vector whose lane i is the sum of the lanes of v[i], for the L = kWideLanes<T> vectors v
/// (overwritten): log2 L stages, each adding the two halves of every pair of vectors' lanes into one vector
/// (the pairing of transpose_square, with an add instead of a second shuffle's result kept).
template <class T, int B = kWideLanes<T> / 2>
inline Wide<T> sum_lanes_each(Wide<T>* v) {
  if constexpr (B >= 1) {
    const auto lanes = std::make_index_sequence<static_cast<std::size_t>(kWideLanes<T>)>{};
#pragma GCC unroll 16
    for (int i = 0; i < B; ++i) v[i] = merge_low<B>(v[i], v[i + B], lanes) + merge_high<B>(v[i], v[i + B], lanes);
    return sum_lanes_each<T, B / 2>(v);
  } else {
    return v[0];
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
  assert(g.stride == 1);
  with_row_kernel_shape(g.out_w, g.kw, [&](auto ow, auto kw) {
    constexpr int IW = decltype(ow)::value + decltype(kw)::value - 1;
    T sums[IW];
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t y = 0; y < g.height; ++y) {
        // Padded row y + pad reads output rows y + pad - ki, for the ki that land in [0, OH).
        const std::int64_t row = y + g.padding;
        const std::int64_t ki_begin = std::max<std::int64_t>(0, row - g.out_h + 1), ki_end = std::min(g.kh, row + 1);
        direct_input_row<T, decltype(ow)::value, decltype(kw)::value>(row, ki_begin, ki_end, gt,
                                                                      wt + c * g.kh * g.kw * kWideLanes<T>, sums);
        T* dst = dx + (c * g.height + y) * g.width;
        const T* row_sums = sums + g.padding;  // the padded row's interior
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
        direct_row<T, decltype(ow)::value, decltype(kw)::value>(g.channels, g.kh, padded_w * (g.height + 2 * g.padding),
                                                                padded_w, w, padded + i * padded_w, bias + o0,
                                                                block + i * g.out_w * L);
    });
    for (std::int64_t i = 0; i < g.out_h && !by_rows; ++i)
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

/// Where the same dot products continue in further samples: sample s's rows are the first sample's moved
/// by s a_step (A) and s b_step (B). One sample by default.
struct SampleSteps {
  std::int64_t samples = 1;
  std::int64_t a_step = 0;
  std::int64_t b_step = 0;
};

/// acc[u RV + v] += A_u[p] B_v[p] lane-wise, for p < n in whole vectors (n a multiple of kWideLanes<T>), u < RU,
/// v < RV, and then the same in each further sample of `steps`: RU x RV dot products sharing their loads,
/// their vector partial sums kept in `acc` between calls. The sums run sample by sample, p in order, so a
/// split of the samples over calls gives the same bits.
template <class T, int RU, int RV>
[[gnu::noinline]] void dot_tile(std::int64_t n, const T* const* a, const T* const* b, Wide<T>* acc,
                                SampleSteps steps = {}) {
  // Local pointer copies and unrolled fixed-size loops keep the RU RV sums in registers (see panel_block);
  // kept out of line, where the register allocator has only this loop to serve (inlined, it spills).
  // Running over the samples here, not in the caller, keeps the sums in registers across samples: a
  // sample of a small map's gradient is only a few vectors long (10x10 outputs on the grid: 9).
  constexpr int L = kWideLanes<T>;
  const T* ap[RU];
  const T* bp[RV];
#pragma GCC unroll 8
  for (int u = 0; u < RU; ++u) ap[u] = a[u];
#pragma GCC unroll 4
  for (int v = 0; v < RV; ++v) bp[v] = b[v];
  Wide<T> sums[RU * RV];
#pragma GCC unroll 16
  for (int i = 0; i < RU * RV; ++i) sums[i] = acc[i];
  for (std::int64_t sample = 0; sample < steps.samples; ++sample) {
    for (std::int64_t p = 0; p < n; p += L) {
      Wide<T> bv[RV];
#pragma GCC unroll 4
      for (int v = 0; v < RV; ++v) bv[v] = load_wide(bp[v] + p);
#pragma GCC unroll 8
      for (int u = 0; u < RU; ++u) {
        const Wide<T> av = load_wide(ap[u] + p);
#pragma GCC unroll 4
        for (int v = 0; v < RV; ++v) sums[u * RV + v] = fmadd(av, bv[v], sums[u * RV + v]);
      }
    }
#pragma GCC unroll 8
    for (int u = 0; u < RU; ++u) ap[u] += steps.a_step;
#pragma GCC unroll 4
    for (int v = 0; v < RV; ++v) bp[v] += steps.b_step;
  }
#pragma GCC unroll 16
  for (int i = 0; i < RU * RV; ++i) acc[i] = sums[i];
}

/// The most rows of A, and of B, in one block of dot products (6 x 2 vector accumulators).
inline constexpr int kDotRowsA = 6;
inline constexpr int kDotRowsB = 2;

/// dot_tile for ru <= kDotRowsA rows of A and rv <= kDotRowsB rows of B chosen at run time.
template <class T>
inline void dot_tile_block(std::int64_t n, const T* const* a, int ru, const T* const* b, int rv, Wide<T>* acc,
                           SampleSteps steps = {}) {
  with_count<kDotRowsA>(ru, [&](auto rows_a) {
    with_count<kDotRowsB>(rv, [&](auto rows_b) {
      dot_tile<T, decltype(rows_a)::value, decltype(rows_b)::value>(n, a, b, acc, steps);
    });
  });
}

/// The dot products sum_p A[u, p] B_v[p] for each row u of a RowGroup and each v of its columns, accumulated
/// over any number of add() calls (e.g. one per sample) lane-wise in vectors, whose lanes are added only
/// once, in order, by add_into(). The accumulators live in caller-provided memory (scratch), zeroed here.
template <class T>
class DotSums {
 public:
  /// Returns the number of vectors of accumulators that a group needs.
  static std::int64_t accumulators(const RowGroup& group) {
    return static_cast<std::int64_t>(group.rows.size() * group.columns.size());
  }

  /// Uses acc[0 .. accumulators(group)) for the sums, zeroed; `group` (finished) must outlive this object.
  DotSums(const RowGroup& group, Wide<T>* acc) : group_(group), acc_(acc) {
    std::fill_n(acc_, accumulators(group), Wide<T>{});
  }

  /// Returns a DotSums that continues the sums already in acc (made by the constructor, added to since).
  static DotSums resume(const RowGroup& group, Wide<T>* acc) { return DotSums(group, acc, 0); }

  /// Adds sum_{p < n} A[u, p] B_v[p], A's rows lda apart, n a multiple of kWideLanes<T>, and the same for
  /// each further sample of `steps` (its rows moved by s a_step and s b_step), samples in order.
  void add(std::int64_t n, const T* a, std::int64_t lda, const RowsOf<T>& b, SampleSteps steps = {}) {
    assert(n % kWideLanes<T> == 0);
    // Short samples (10x10 outputs: 144 grid positions) go several to a pass, so that the sums stay in
    // registers across them; as many as keep a block's kDotRowsA rows of A within about half the L1 cache,
    // which they are read from once per pair of B rows. A long sample (C1's 896) goes alone, its p axis in
    // tiles.
    constexpr std::int64_t kL1Budget = 24 * 1024;
    constexpr std::int64_t kTile = 4096 / static_cast<std::int64_t>(sizeof(T));
    const std::int64_t block_bytes = kDotRowsA * n * static_cast<std::int64_t>(sizeof(T));
    const std::int64_t per_pass = std::clamp<std::int64_t>(kL1Budget / std::max<std::int64_t>(block_bytes, 1), 1,
                                                          std::max<std::int64_t>(steps.samples, 1));
    const std::int64_t tile = per_pass > 1 ? n : kTile;
    const auto& vs = group_.columns;
    const auto rows = static_cast<std::int64_t>(group_.rows.size()), cols = static_cast<std::int64_t>(vs.size());
    const T* ap[kDotRowsA];
    const T* bp[kDotRowsB];
    for (std::int64_t s0 = 0; s0 < steps.samples; s0 += per_pass) {
      const SampleSteps pass{std::min(per_pass, steps.samples - s0), steps.a_step, steps.b_step};
      for (std::int64_t p0 = 0; p0 < n; p0 += tile) {
        const std::int64_t len = std::min(tile, n - p0), at = s0 * steps.a_step + p0, bt = s0 * steps.b_step + p0;
        for (std::int64_t u0 = 0; u0 < rows; u0 += kDotRowsA) {
          const std::int64_t ru = std::min<std::int64_t>(kDotRowsA, rows - u0);
          for (std::int64_t u = 0; u < ru; ++u) ap[u] = a + group_.rows[static_cast<std::size_t>(u0 + u)] * lda + at;
          for (std::int64_t v0 = 0; v0 < cols; v0 += kDotRowsB) {
            const int rv = static_cast<int>(std::min<std::int64_t>(kDotRowsB, cols - v0));
            for (int v = 0; v < rv; ++v) bp[v] = b.row(vs[static_cast<std::size_t>(v0 + v)]) + bt;
            dot_tile_block(len, ap, static_cast<int>(ru), bp, rv, acc_ + u0 * cols + v0 * ru, pass);
          }
        }
      }
    }
  }

  /// Adds each dot product (its lanes summed in order) to C[u, v], C's rows ldc apart.
  void add_into(T* c, std::int64_t ldc) const {
    const auto& vs = group_.columns;
    const auto rows = static_cast<std::int64_t>(group_.rows.size()), cols = static_cast<std::int64_t>(vs.size());
    for (std::int64_t u0 = 0; u0 < rows; u0 += kDotRowsA) {
      const std::int64_t ru = std::min<std::int64_t>(kDotRowsA, rows - u0);
      for (std::int64_t v0 = 0; v0 < cols; v0 += kDotRowsB) {
        const std::int64_t rv = std::min<std::int64_t>(kDotRowsB, cols - v0);
        for (std::int64_t u = 0; u < ru; ++u)
          for (std::int64_t v = 0; v < rv; ++v)
            c[group_.rows[static_cast<std::size_t>(u0 + u)] * ldc + vs[static_cast<std::size_t>(v0 + v)]] +=
                wide_lane_sum<T>(acc_[u0 * cols + v0 * ru + u * rv + v]);
      }
    }
  }

 private:
  DotSums(const RowGroup& group, Wide<T>* acc, int) : group_(group), acc_(acc) {}

  const RowGroup& group_;
  Wide<T>* acc_;  // per block of rows u0.. and columns v0..: ru x rv vectors
};

/// For u < ru, v < rv: out[u ldo + v] = sum_{p < n} A_u[p] B_v[p], each a lane-wise dot
/// product whose lanes are summed in order at the end, so a dot's value does not depend on ru, rv or on
/// which other rows share its block. n is a multiple of kWideLanes<T>; ru <= kDotRowsA, rv <= kDotRowsB.
template <class T>
void dot_block(std::int64_t n, const T* const* a, int ru, const T* const* b, int rv, T* out, std::int64_t ldo) {
  constexpr std::int64_t kTile = 4096 / static_cast<std::int64_t>(sizeof(T));
  Wide<T> acc[kDotRowsA * kDotRowsB] = {};
  const T* ap[kDotRowsA];
  const T* bp[kDotRowsB];
  for (std::int64_t p0 = 0; p0 < n; p0 += kTile) {
    for (int u = 0; u < ru; ++u) ap[u] = a[u] + p0;
    for (int v = 0; v < rv; ++v) bp[v] = b[v] + p0;
    dot_tile_block(std::min(kTile, n - p0), ap, ru, bp, rv, acc);
  }
  for (int u = 0; u < ru; ++u)
    for (int v = 0; v < rv; ++v) out[u * ldo + v] = wide_lane_sum<T>(acc[u * rv + v]);
}

}  // namespace ag::detail
