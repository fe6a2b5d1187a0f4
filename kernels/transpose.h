#pragma once
/// Internal: register transposes of L x L blocks (L = kWideLanes<T>), between [maps, positions] rows and
/// [positions, L] blocks vectorised over the maps, and lane sums of L vectors at once.
#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/simd.h"

namespace ag::kernels {

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

/// Writes block [P, L] (L = kWideLanes<T>) as the rows y[l] [P] of its first `maps` lanes, rows `ld` >= P
/// apart (P when not given).
template <class T>
void transpose_block_into(const T* block, std::int64_t positions, std::int64_t maps, T* y, std::int64_t ld = 0) {
  constexpr int L = kWideLanes<T>;
  if (ld == 0) ld = positions;
  if (positions < L) {
    for (std::int64_t l = 0; l < maps; ++l)
      for (std::int64_t p = 0; p < positions; ++p) y[l * ld + p] = block[p * L + l];
    return;
  }
  // L positions at a time as an L x L transpose; the last group moved back to end at P (overlapping).
  for (std::int64_t p = 0; p < positions; p += L) {
    const std::int64_t at = std::min(p, positions - L);
    Wide<T> v[L];
#pragma GCC unroll 16
    for (int r = 0; r < L; ++r) v[r] = load_wide(block + (at + r) * L);
    transpose_square<T>(v);
    for (std::int64_t l = 0; l < maps; ++l) store_wide(y + l * ld + at, v[l]);
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

}  // namespace ag::kernels
