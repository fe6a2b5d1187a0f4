#pragma once
/// Register-blocked matrix products, whose innermost loops have compile-time trip counts over contiguous
/// memory, written with vector types so the accumulators stay in vector registers. They read B by rows
/// (RowsOf), so a row can be any pointer, e.g. a shifted input map. Used by conv2d and linear; the dot
/// products are in dots.h.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/block_sink.h"
#include "kernels/chunks.h"
#include "kernels/parallel.h"
#include "kernels/scratch.h"
#include "kernels/simd.h"

namespace ag::kernels {

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
/// connection table's groups on the grid (the maps that read one input map, summing over its taps); long sums
/// ran slower with them (docs/performance.md).
inline constexpr int kPanelRowsMax = kWideBytes == 64 ? 10 : kPanelRows;

/// For the R rows r: C_r[j + v L + l] (= or +=) sum over k in ks of A_r[k a_ks] B_k[j + v L + l] for
/// v < NV whole vectors of L = kLanesIn<T, Bytes> lanes (wide vectors by default). R, NV and Bytes are
/// compile-time, so the accumulators live in registers. Every lane sums over k in the same order, whatever
/// the width: a column gets the same bits in a wide block, a narrow one or the packed tail.
template <class T, int R, int NV, int Bytes = kWideBytes>
inline void panel_block(std::span<const Range> ks, const T* const* a, std::int64_t a_ks, const RowsOf<T>& b,
                        T* const* c, std::int64_t j, bool accumulate) {
  // Local copies of the row pointers, and fully unrolled fixed-size loops, let the compiler keep all R NV
  // accumulators in registers (with the pointers behind `a` and `c` it must assume aliasing and spills).
  constexpr int L = kLanesIn<T, Bytes>;
  using V = Vec<T, Bytes>;
  const T* ap[R];
  T* cp[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) ap[r] = a[r], cp[r] = c[r] + j;
  V acc[R * NV];
#pragma GCC unroll 32
  for (int i = 0; i < R * NV; ++i) acc[i] = accumulate ? load_vec<T, Bytes>(cp[i / NV] + (i % NV) * L) : V{};
  for (const Range& range : ks)
    for (std::int64_t k = range.begin; k < range.end; ++k) {
      const T* brow = b.row(k) + j;
      V bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = load_vec<T, Bytes>(brow + v * L);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const V av = splat_vec<T, Bytes>(ap[r][k * a_ks]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[r * NV + v] = fmadd(av, bv[v], acc[r * NV + v]);
      }
    }
#pragma GCC unroll 32
  for (int i = 0; i < R * NV; ++i) store_vec<T, Bytes>(cp[i / NV] + (i % NV) * L, acc[i]);
}

/// panel_product's scratch: B's last columns, packed as whole vectors.
struct PanelScratch {
  ScratchBuffer tail;
};

/// B's columns [j, j + cols), cols < L = kLanes<T>, for the k of `ks`, packed as whole (narrow) vectors: row k
/// at tail + k L, lanes past `cols` 0. In `into` (by default this thread's PanelScratch).
template <class T>
const T* pack_tail_columns(std::span<const Range> ks, const RowsOf<T>& b, std::int64_t j, std::int64_t cols,
                           ScratchBuffer& into = thread_scratch<PanelScratch>().tail) {
  constexpr std::int64_t L = kLanes<T>;
  std::int64_t rows = 0;
  for (const Range& range : ks) rows = std::max(rows, range.end);
  T* tail = into.get<T>(rows * L);
  for (const Range& range : ks)
    for (std::int64_t k = range.begin; k < range.end; ++k) {
      const T* from = b.row(k) + j;
      T* to = tail + k * L;
      for (std::int64_t l = 0; l < L; ++l) to[l] = l < cols ? from[l] : T(0);
    }
  return tail;
}

/// panel_block for C's last `cols` < kLanes<T> columns from j, with B's columns packed by pack_tail_columns:
/// one narrow vector per row, through a copy of the R rows' tails.
template <class T, int R>
[[gnu::noinline]] void panel_tail_rows(std::span<const Range> ks, const T* const* a, std::int64_t a_ks, const T* tail,
                                       T* const* c, std::int64_t j, std::int64_t cols, bool accumulate) {
  constexpr int L = kLanes<T>;
  alignas(64) T rows[R][L] = {};
  T* rp[R];
  for (int r = 0; r < R; ++r) {
    rp[r] = rows[r];
    if (accumulate) std::copy_n(c[r] + j, cols, rows[r]);
  }
  panel_block<T, R, 1, kVectorBytes>(ks, a, a_ks, RowsOf<T>{tail, L}, rp, 0, accumulate);
  for (int r = 0; r < R; ++r) std::copy_n(rows[r], cols, c[r] + j);
}

/// C's R rows over `cols`, a multiple of kLanes<T>: blocks of 2 wide vectors, then 1, then (when wide
/// vectors are wider) one narrow vector.
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
  if constexpr (kVectorBytes < kWideBytes)
    for (; j + kLanes<T> <= cols; j += kLanes<T>) panel_block<T, R, 1, kVectorBytes>(ks, a, a_ks, b, c, j, accumulate);
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
/// vectors at a time; innermost, one B vector times one broadcast A value per accumulator. B's columns past
/// the last whole kLanes<T> are packed here once, unless the caller passes them packed (`packed_tail`, from
/// pack_tail_columns for the same ks and columns) because it computes several products from one B.
template <class T>
void panel_product(RowList rows, std::span<const Range> ks, std::int64_t cols, const T* a, std::int64_t a_rs,
                   std::int64_t a_ks, const RowsOf<T>& b, T* c, std::int64_t ldc, bool accumulate,
                   int block_rows = kPanelRows, const T* packed_tail = nullptr) {
  const T* ap[kPanelRowsMax];
  T* cp[kPanelRowsMax];
  const std::int64_t whole = cols / kLanes<T> * kLanes<T>, tail_cols = cols - whole;
  const T* tail = !tail_cols ? nullptr : packed_tail ? packed_tail : pack_tail_columns(ks, b, whole, tail_cols);
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

/// rows_times_weights for all `rows` at once (out's rows ldo apart), its columns split over the threads in
/// pieces of whole pairs of vectors. Each piece reads its columns of W from the L2 cache once for all rows,
/// where a split by chunks of samples read all of W once per chunk (8 times at batch 16, 2 rows each). Each
/// output is the same sum as rows_times_weights', so the same bits; where the pieces would run one after
/// another on this thread, it is rows_times_weights itself (one call instead of 8, each with its own
/// packing and tails: C5's dL/dx at batch 1 took twice the instructions in pieces).
template <class T>
void rows_times_weights_by_columns(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g, const T* w,
                                   T* out, std::int64_t ldo) {
  const std::int64_t work = rows * outputs * taps / kProductMultiplyAddsPerWork;
  if (thread_count() == 1 || work < kMinParallelWork) return rows_times_weights(rows, outputs, taps, g, w, out, ldo);
  constexpr std::int64_t kPieceColumns = 2 * kWideLanes<T>;
  const auto pieces = sample_chunks((taps + kPieceColumns - 1) / kPieceColumns);
  const Range all_outputs{0, outputs};
  parallel_for(pieces.count, [&](std::int64_t piece) {
    const std::int64_t c0 = pieces.begin(piece) * kPieceColumns;
    const std::int64_t c1 = std::min(taps, pieces.end(piece) * kPieceColumns);
    panel_product(RowList{nullptr, rows, 0}, std::span(&all_outputs, 1), c1 - c0, g, outputs, 1,
                  RowsOf<T>{w + c0, taps}, out + c0, ldo, false, kPanelRowsMax);
  }, work);
}

/// How many parts rows_times_weights_by_output_parts splits W's outputs into: fixed, so that its sums (and so
/// its bits) do not depend on the thread count, and few, since each part past the first is a partial sum
/// [rows, K] to write and add.
inline constexpr std::int64_t kOutputParts = 2;

/// rows_times_weights_by_output_parts' partial sums, on the thread that makes the call (written by all).
struct OutputPartsScratch {
  ScratchBuffer partials;  // parts 1, 2, ...: [rows, K] each
};

/// rows_times_weights for all `rows` at once (out's rows ldo apart) as the sum of kOutputParts products, part
/// p = G[:, O_p] W[O_p, :] over a run O_p of whole blocks of kPanelRows rows of W, the parts on the threads
/// and then added in order: out = part 0 + part 1 + ... The runs are those of weight_gradient_by_rows' pieces
/// that the same thread claims (the first half of them the caller's), so each thread reads only the rows of W
/// that it writes when the optimizer updates W block by block, where a split by columns reads every row on
/// every thread and the other core's writes to them must come across. Each part sums its outputs in order.
template <class T>
void rows_times_weights_by_output_parts(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g,
                                        const T* w, T* out, std::int64_t ldo) {
  const std::int64_t row_blocks = (outputs + kPanelRows - 1) / kPanelRows;
  const SampleChunks parts{row_blocks, std::clamp<std::int64_t>(row_blocks, 1, kOutputParts)};
  T* partials = thread_scratch<OutputPartsScratch>().partials.get<T>((parts.count - 1) * rows * taps);
  parallel_for(parts.count, [&](std::int64_t part) {
    const Range run{parts.begin(part) * kPanelRows, std::min(outputs, parts.end(part) * kPanelRows)};
    T* c = part == 0 ? out : partials + (part - 1) * rows * taps;
    panel_product(RowList{nullptr, rows, 0}, std::span(&run, 1), taps, g, outputs, 1, RowsOf<T>{w, taps}, c,
                  part == 0 ? ldo : taps, false, kPanelRowsMax);
  }, rows * outputs * taps / kProductMultiplyAddsPerWork);
  for (std::int64_t part = 1; part < parts.count; ++part)
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* partial = partials + ((part - 1) * rows + r) * taps;
      T* out_row = out + r * ldo;
      for (std::int64_t k = 0; k < taps; ++k) out_row[k] += partial[k];
    }
}

/// Up to this many rows rows_times_weights_on_threads adds output parts; above, their partial sums cost more
/// than reading W's rows across the cores (docs/performance.md).
inline constexpr std::int64_t kRowsForOutputParts = 32;

/// rows_times_weights on the threads (out's rows ldo apart) for a W that the optimizer updates block by block
/// (weight_gradient_by_rows with a sink): by output parts for up to kRowsForOutputParts rows when the product
/// is worth a second thread, else by columns. The choice depends on the shape alone, never on the threads.
template <class T>
void rows_times_weights_on_threads(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g,
                                   const T* w, T* out, std::int64_t ldo) {
  const bool worth_threads = rows * outputs * taps / kProductMultiplyAddsPerWork >= kMinParallelWork;
  if (worth_threads && rows <= kRowsForOutputParts)
    rows_times_weights_by_output_parts(rows, outputs, taps, g, w, out, ldo);
  else
    rows_times_weights_by_columns(rows, outputs, taps, g, w, out, ldo);
}

/// From how many receptive fields a convolution's product by its weights W [O, K] transposes W once per call and
/// vectorises over its O outputs (rows_times_transposed); below, the transposition of O K values would cost
/// as much as the product, and dot products of W's rows are used instead. (A product whose rows are whole
/// samples, the linear layer's and C5's, is vectorised over the samples instead: row_lanes_product.h.)
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

/// The work of a BlockSink for each element it takes (an optimizer's update: a few element operations), in
/// parallel_for's units: a weight gradient that goes to a sink is worth a second thread for its update
/// alone (F6's at batch 16 and 32). Not counted for the outer products of up to kOuterRowsMax rows (batch 1):
/// there the other core would have to fetch its half of the weights and their moments for an update that
/// costs less than the fetch, and the next forward pass would fetch them back.
inline constexpr std::int64_t kSinkWorkPerElement = 4;

/// A thread's block of dW rows on its way to a BlockSink, and X's last columns packed for all the blocks.
struct WeightBlockScratch {
  ScratchBuffer rows, tail;
};

/// Rows [o0, o1) of dW = G^T X (weight_gradient_by_rows): kPanelRows at a time, by outer_rows_block for up to
/// kOuterRowsMax rows of G and X, else by panel_product; into gw, or with a sink, into this thread's scratch
/// and from there, while in the L1 cache, to the sink.
template <class T>
void weight_gradient_rows(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g, const T* x,
                          std::int64_t o0, std::int64_t o1, T* gw, const BlockSink* sink) {
  const Range all_rows{0, rows};
  auto& scratch = thread_scratch<WeightBlockScratch>();
  T* block = sink ? scratch.rows.get<T>(kPanelRows * taps) : nullptr;
  // X's columns past its whole narrow vectors, packed once for all the blocks rather than once per block (none
  // for F6's 120 taps; 4 for the modern output layer's 84). Its own buffer: the sink runs between the blocks.
  const std::int64_t tail_cols = taps % kLanes<T>;
  const T* tail = rows > kOuterRowsMax && tail_cols ? pack_tail_columns(std::span(&all_rows, 1), RowsOf<T>{x, taps},
                                                                        taps - tail_cols, tail_cols, scratch.tail)
                                                    : nullptr;
  for (std::int64_t b0 = o0; b0 < o1; b0 += kPanelRows) {
    const std::int64_t b1 = std::min(o1, b0 + kPanelRows);
    T* out = sink ? block : gw + b0 * taps;
    if (rows <= kOuterRowsMax)
      outer_rows_block(rows, outputs, taps, g + b0, x, b1 - b0, out);
    else
      panel_product(RowList{nullptr, b1 - b0, 0}, std::span(&all_rows, 1), taps, g + b0, 1, outputs,
                    RowsOf<T>{x, taps}, out, taps, false, kPanelRows, tail);
    if (sink) sink->send(b0 * taps, b1 * taps, block);
  }
}

/// dW [O, K] = G^T X for G [rows, O] and X [rows, K] (both row-major), each value a sum over the rows in
/// order; pieces of whole blocks of kPanelRows rows of dW go to the threads. A whole batch's sum with no
/// partial sums per chunk of samples to write and add, so its value does not depend on the thread count
/// either. Into gw, or block by block to `sink` (then gw is null): the same values, never stored whole.
template <class T>
void weight_gradient_by_rows(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const T* g, const T* x,
                             T* gw, const BlockSink* sink = nullptr) {
  const std::int64_t row_blocks = (outputs + kPanelRows - 1) / kPanelRows;
  const auto pieces = sample_chunks(row_blocks);
  parallel_for(pieces.count, [&](std::int64_t piece) {
    const std::int64_t o0 = pieces.begin(piece) * kPanelRows;
    weight_gradient_rows(rows, outputs, taps, g, x, o0, std::min(outputs, pieces.end(piece) * kPanelRows), gw, sink);
  }, rows * outputs * taps / kProductMultiplyAddsPerWork +
         (sink && rows > kOuterRowsMax ? kSinkWorkPerElement * outputs * taps : 0));
}

}  // namespace ag::kernels
