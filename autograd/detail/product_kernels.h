#pragma once
/// Internal: register-blocked matrix products and dot products, whose innermost loops have compile-time trip
/// counts over contiguous memory, written with vector types so the accumulators stay in vector registers
/// (AVX2/AVX-512 with FMA under -march=native; SSE2 otherwise). They read B by rows (RowsOf), so a row can be
/// any pointer, e.g. a shifted input map. Used by conv2d (conv_kernels.h) and linear.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "autograd/detail/batch_kernels.h"
#include "autograd/detail/scratch.h"
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
/// Blocks of up to kPanelRowsMax rows: each block streams all of W^T (C5's: 200 KB) from the L2 cache.
template <class T>
void rows_times_transposed(std::int64_t rows, std::int64_t taps, const T* a, std::int64_t lda, const T* wt,
                           std::int64_t outputs, std::int64_t ldo, const T* bias, T* out) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t o = 0; o < ldo; ++o) out[r * ldo + o] = bias && o < outputs ? bias[o] : T(0);
  const Range all_taps{0, taps};
  panel_product(RowList{nullptr, rows, 0}, std::span(&all_taps, 1), ldo, a, lda, 1, RowsOf<T>{wt, ldo}, out, ldo, true,
                kPanelRowsMax);
}

/// out [rows, K] (rows ldo apart) = G W for G [rows, O] and W [O, K], both row-major: the input gradient of a
/// product by W. Each output sums over the O maps in order; blocks of up to kPanelRowsMax rows, each
/// streaming all of W from the L2 cache (C5's: 192 KB), so the fewer blocks the better.
template <class T>
void rows_times_weights(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g, const T* w, T* out,
                        std::int64_t ldo) {
  const Range all_outputs{0, outputs};
  panel_product(RowList{nullptr, rows, 0}, std::span(&all_outputs, 1), taps, g, outputs, 1, RowsOf<T>{w, taps}, out, ldo,
                false, kPanelRowsMax);
}

/// From how many rows (samples, or receptive fields) a product by a weight matrix W [O, K] transposes W once
/// per call and vectorises over its O outputs (rows_times_transposed); below, the transposition of O K
/// values would cost as much as the product, and dot products of W's rows are used instead.
inline constexpr std::int64_t kRowsForTransposedWeights = 16;

/// Up to this many rows, outer_rows_block computes a block of dW instead of panel_product.
inline constexpr std::int64_t kOuterRowsMax = 4;

/// C [count, K] = G[:, 0..count)^T X for G [rows, O] and X [rows, K] (row-major; C row-major, K wide), for few
/// rows: each value a fused multiply-add chain from 0 over the rows in order, as panel_product computes it
/// (the same bits), without its blocking and tail packing, which cost more than the products when each
/// value is one or two of them (batch 1).
template <class T>
void outer_rows_block(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g, const T* x,
                      std::int64_t count, T* c) {
  constexpr std::int64_t L = kWideLanes<T>;
  const std::int64_t whole = taps / L * L;
  for (std::int64_t o = 0; o < count; ++o) {
    T* co = c + o * taps;
    for (std::int64_t j = 0; j < whole; j += L) {
      Wide<T> acc{};
      for (std::int64_t r = 0; r < rows; ++r)
        acc = fmadd(splat_wide(g[r * outputs + o]), load_wide(x + r * taps + j), acc);
      store_wide(co + j, acc);
    }
    for (std::int64_t j = whole; j < taps; ++j) {
      T acc = 0;
      for (std::int64_t r = 0; r < rows; ++r) acc = fmadd(g[r * outputs + o], x[r * taps + j], acc);
      co[j] = acc;
    }
  }
}

/// dW [O, K] = G^T X for G [rows, O] and X [rows, K] (both row-major), each value a sum over the rows in
/// order; blocks of kPanelRows rows of dW go to the threads. A whole batch's sum with no partial sums per
/// chunk of samples to write and add, so its value does not depend on the thread count either. For up to
/// kOuterRowsMax rows (batch 1's C5 and linear layers) each block is computed by outer_rows_block, the same
/// bits without panel_product's blocking and tail packing.
template <class T>
void weight_gradient_by_rows(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g, const T* x,
                             T* gw) {
  const Range all_rows{0, rows};
  const std::int64_t row_blocks = (outputs + kPanelRows - 1) / kPanelRows;
  const auto pieces = sample_chunks(row_blocks);  // whole blocks of kPanelRows outputs per piece
  parallel_for(pieces.count, [&](std::int64_t piece) {
    const std::int64_t o0 = pieces.begin(piece) * kPanelRows;
    const std::int64_t o1 = std::min(outputs, pieces.end(piece) * kPanelRows);
    if (rows > kOuterRowsMax) {
      panel_product(RowList{nullptr, o1 - o0, o0}, std::span(&all_rows, 1), taps, g, 1, outputs, RowsOf<T>{x, taps},
                    gw, taps, false);
      return;
    }
    for (std::int64_t b0 = o0; b0 < o1; b0 += kPanelRows)
      outer_rows_block(rows, outputs, taps, g + b0, x, std::min(o1, b0 + kPanelRows) - b0, gw + b0 * taps);
  }, rows * outputs * taps / kProductMultiplyAddsPerWork);
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
