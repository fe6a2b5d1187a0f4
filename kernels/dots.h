#pragma once
/// Register-blocked dot products: many pairs of rows at once, sharing their loads, with lane-wise partial sums
/// kept in vectors and their lanes added once, in a fixed order. Used by conv2d's dL/dW and forward and by
/// linear's forward.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <vector>

#include "kernels/products.h"
#include "kernels/simd.h"

namespace ag::kernels {

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

/// The DotSums of several row groups (a convolution's output groups: dL/dW), their accumulators one after
/// another in caller-provided memory (accumulators(groups) vectors), zeroed here.
template <class T>
class GroupedDotSums {
 public:
  /// Returns the vectors of accumulators that `groups` need.
  static std::int64_t accumulators(const std::vector<RowGroup>& groups) {
    std::int64_t total = 0;
    for (const auto& group : groups) total += DotSums<T>::accumulators(group);
    return total;
  }

  /// Uses acc[0 .. accumulators(groups)) for the sums, zeroed; `groups` must outlive this object.
  GroupedDotSums(const std::vector<RowGroup>& groups, Wide<T>* acc) : groups_(groups), acc_(acc) {
    for_each([](DotSums<T>) {});
  }

  /// Calls add(sums, group) with each group's DotSums (continuing its sums) and the group.
  template <class F>
  void add(F&& add) {
    Wide<T>* acc = acc_;
    for (const auto& group : groups_) {
      add(DotSums<T>::resume(group, acc), group);
      acc += DotSums<T>::accumulators(group);
    }
  }

  /// Adds each dot product (its lanes summed in order) to C[u, v], C's rows ldc apart.
  void add_into(T* c, std::int64_t ldc) {
    add([&](DotSums<T> sums, const RowGroup&) { sums.add_into(c, ldc); });
  }

 private:
  template <class F>
  void for_each(F&& f) {
    Wide<T>* acc = acc_;
    for (const auto& group : groups_) {
      f(DotSums<T>(group, acc));
      acc += DotSums<T>::accumulators(group);
    }
  }

  const std::vector<RowGroup>& groups_;
  Wide<T>* acc_;
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

/// Returns x's and y's segments of S lanes (one row's partial sums each: x's rows, then y's) halved: each
/// segment's first half plus its second half, lane by lane, as tree_lane_sum's first step adds a vector's halves.
template <int S, class V, std::size_t... L>
inline V halve_segments(const V& x, const V& y, std::index_sequence<L...>) {
  return __builtin_shufflevector(x, y, (L / (S / 2) * S + L % (S / 2))...) +
         __builtin_shufflevector(x, y, (L / (S / 2) * S + L % (S / 2) + S / 2)...);
}

/// Returns the vector whose lane u is tree_lane_sum(v[u]), for v[0 .. S) (S = kWideLanes<T> at the first
/// call): pairs of vectors halved level by level, log2 S shuffled adds for all S sums, each in the same order
/// as tree_lane_sum takes alone. v is overwritten.
template <class T, int S = kWideLanes<T>>
inline Wide<T> lane_sums_of(Wide<T>* v) {
  if constexpr (S == 1) {
    return v[0];
  } else {
    for (int i = 0; i < S / 2; ++i)
      v[i] = halve_segments<S>(v[2 * i], v[2 * i + 1], std::make_index_sequence<kWideLanes<T>>{});
    return lane_sums_of<T, S / 2>(v);
  }
}

/// For u < ru <= kWideLanes<T>: out[u] = sum_{p < n} A_u[p] b[p], for one row b, the same value as dot_block
/// gives (a lane-wise chain of multiply-adds over p, then its lanes in tree_lane_sum's order). n is a multiple
/// of kWideLanes<T>. A sample at a time (batch 1), where dot_block's blocks of six rows left most of the time
/// to the lanes' sums, done one row at a time.
template <class T>
[[gnu::noinline]] void dots_with_row(std::int64_t n, const T* const* a, int ru, const T* b, T* out) {
  constexpr int L = kWideLanes<T>;
  assert(ru >= 1 && ru <= L && n % L == 0);
  const T* ap[L];
#pragma GCC unroll 16
  for (int u = 0; u < L; ++u) ap[u] = a[std::min(u, ru - 1)];  // rows past ru repeat the last (sums unused)
  Wide<T> sums[L];
#pragma GCC unroll 16
  for (int u = 0; u < L; ++u) sums[u] = Wide<T>{};
  for (std::int64_t p = 0; p < n; p += L) {
    const Wide<T> bv = load_wide(b + p);
#pragma GCC unroll 16
    for (int u = 0; u < L; ++u) sums[u] = fmadd(load_wide(ap[u] + p), bv, sums[u]);
  }
  alignas(64) T lanes[L];
  store_wide(lanes, lane_sums_of<T>(sums));
  std::copy_n(lanes, ru, out);
}

/// The rows of A that one call of dot_products takes at the most: a vector's width of them against a lone row of
/// B, else kDotRowsA.
template <class T>
constexpr std::int64_t dot_rows_per_call(int rv) {
  return rv == 1 ? kWideLanes<T> : kDotRowsA;
}

/// The most rows of A, and the most values out, of any call of dot_products: the sizes of a caller's arrays.
template <class T>
inline constexpr int kDotCallRows = std::max(kDotRowsA, kWideLanes<T>);
template <class T>
inline constexpr int kDotCallOutputs = std::max(kDotRowsA * kDotRowsB, kWideLanes<T>);

/// For u < ru, v < rv: out[u rv + v] = sum_{p < n} A_u[p] B_v[p], as dot_block gives them, through
/// dots_with_row for a lone row of B (rv = 1, ru <= kWideLanes<T>), else dot_block (ru <= kDotRowsA).
template <class T>
void dot_products(std::int64_t n, const T* const* a, int ru, const T* const* b, int rv, T* out) {
  if (rv == 1)
    dots_with_row(n, a, ru, b[0], out);
  else
    dot_block(n, a, ru, b, rv, out, rv);
}

}  // namespace ag::kernels
