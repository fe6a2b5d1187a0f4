#pragma once
/// Internal: the product of a few dozen rows by a weight matrix, vectorised over the rows instead of over the
/// outputs, so that W is read as it is stored and never transposed.
///
/// A product out = bias + A W^T (A [rows, K], W [O, K]) vectorised over the O outputs needs W^T, a copy of W
/// made once per call, since W changes at every training step: for LeNet-5's C5 that is 48,000 values
/// copied to multiply them by 16 rows. Here L = kWideLanes<T> rows of A are transposed instead (A's block
/// [L, K] to [K, L], 16 x 400 values for C5) and each output o of the L rows sums
///     acc = bias[o];  acc = fma(W[o,k], A[r,k], acc) for k = 0, 1, ..., K - 1,
/// the same chain as rows_times_transposed's, so the two give the same bits (the kernel tests check it).
#include <algorithm>
#include <cstdint>

#include "kernels/parallel.h"
#include "kernels/scratch.h"
#include "kernels/simd.h"
#include "kernels/transpose.h"

namespace ag::kernels {

/// Outputs one task of row_lanes_product computes together: its accumulators stay in registers.
inline constexpr int kLaneProductOutputs = 8;

/// Rows from which row_lanes_product is the faster product by a weight matrix: one whole vector of rows.
template <class T>
inline constexpr std::int64_t kRowsForRowLanes = kWideLanes<T>;

/// Outputs [o0, o0 + Count) of the L rows whose transpose is at [K, L]: out[r, o] (rows ldo apart) for the
/// `valid` first rows.
template <class T, int Count>
void row_lanes_block(std::int64_t taps, const T* at, const T* w, std::int64_t o0, const T* bias, std::int64_t valid,
                     T* out, std::int64_t ldo) {
  constexpr std::int64_t L = kWideLanes<T>;
  Wide<T> acc[Count];
  const T* wo[Count];
  for (int i = 0; i < Count; ++i) {
    acc[i] = splat_wide(bias ? bias[o0 + i] : T(0));
    wo[i] = w + (o0 + i) * taps;
  }
  for (std::int64_t k = 0; k < taps; ++k) {
    const Wide<T> rows_k = load_wide(at + k * L);
#pragma GCC unroll 8
    for (int i = 0; i < Count; ++i) acc[i] = fmadd(splat_wide(wo[i][k]), rows_k, acc[i]);
  }
  T lanes[Count][L];
  for (int i = 0; i < Count; ++i) store_wide(lanes[i], acc[i]);
  for (std::int64_t r = 0; r < valid; ++r)
    for (int i = 0; i < Count; ++i) out[r * ldo + o0 + i] = lanes[i][r];
}

/// A task's buffer, on the thread that runs it.
struct RowLanesScratch {
  ScratchBuffer transposed;  // the task's block of L rows of A, [K, L]
};

/// out [rows, O] (rows ldo apart) = bias (0 when null) + A W^T for A [rows, K] and W [O, K], both row-major
/// and contiguous. A task takes a block of L rows, transposes it (into the L1 cache) and computes its outputs
/// kLaneProductOutputs at a time; a single block is split in two tasks by outputs when two threads can share
/// it (parts_of_lone_block). Each output sums k in order, as rows_times_transposed.
template <class T>
void row_lanes_product(std::int64_t rows, std::int64_t taps, const T* a, const T* w, std::int64_t outputs,
                       const T* bias, T* out, std::int64_t ldo) {
  constexpr std::int64_t L = kWideLanes<T>;
  const std::int64_t blocks = (rows + L - 1) / L;
  const std::int64_t groups = (outputs + kLaneProductOutputs - 1) / kLaneProductOutputs;
  const std::int64_t parts = blocks == 1 && groups > 1 ? parts_of_lone_block() : 1;
  parallel_for(blocks * parts, [&](std::int64_t task) {
    const std::int64_t b = task / parts, part = task % parts, valid = std::min(L, rows - b * L);
    T* block = thread_scratch<RowLanesScratch>().transposed.get<T>(taps * L);
    transpose_rows_into_block(a + b * L * taps, taps, valid, block);  // the lanes past the last row are 0
    T* rows_out = out + b * L * ldo;
    for (std::int64_t group = part * groups / parts; group < (part + 1) * groups / parts; ++group) {
      const std::int64_t o0 = group * kLaneProductOutputs;
      const std::int64_t count = std::min<std::int64_t>(kLaneProductOutputs, outputs - o0);
      if (count == kLaneProductOutputs)
        row_lanes_block<T, kLaneProductOutputs>(taps, block, w, o0, bias, valid, rows_out, ldo);
      else
        with_count<kLaneProductOutputs - 1>(count, [&](auto c) {
          row_lanes_block<T, decltype(c)::value>(taps, block, w, o0, bias, valid, rows_out, ldo);
        });
    }
  }, rows * outputs * taps / kProductMultiplyAddsPerWork);
}

}  // namespace ag::kernels
