#pragma once
/// Reductions over a row of values, accumulated in vector lanes in a fixed order (so deterministic and
/// vectorised without reassociation): sums, dot products, squared distances.
#include <cstdint>

#include "kernels/simd.h"

namespace ag::kernels {

/// Returns the sum of v's lanes, added in lane order.
template <class T>
inline T lane_sum(const Simd<T>& v) {
  T total = 0;
  for (int l = 0; l < kLanes<T>; ++l) total += v[l];
  return total;
}

/// Returns sum_i x[i], accumulated in kLanes<T> interleaved partial sums added in a fixed order. Written with
/// vectors: the lane-by-lane form of the same sums did not always vectorise once inlined.
template <class T>
T sum_lanes(const T* x, std::int64_t n) {
  constexpr int L = kLanes<T>;
  Simd<T> acc{};
  std::int64_t i = 0;
  for (; i + L <= n; i += L) acc += load(x + i);
  T total = lane_sum<T>(acc);
  for (; i < n; ++i) total += x[i];
  return total;
}

/// Returns the lane-wise sum of the `count` wide vectors at v (v[q kWideLanes<T> + l] for q < count), in four
/// interleaved partial sums added in a fixed order, so that the adds do not wait on one another.
template <class T>
Wide<T> sum_wide_vectors(const T* v, std::int64_t count) {
  constexpr int L = kWideLanes<T>;
  Wide<T> sums[4] = {};
  std::int64_t q = 0;
  for (; q + 4 <= count; q += 4)
    for (int u = 0; u < 4; ++u) sums[u] += load_wide(v + (q + u) * L);
  for (; q < count; ++q) sums[0] += load_wide(v + q * L);
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

/// Returns sum_i f(a[i], b[i]), accumulated like sum_lanes: f is applied to whole vectors of a and b, then to
/// the scalars of the tail (a generic lambda, e.g. [](auto u, auto v) { return u * v; }).
template <class T, class F>
T sum_of_terms(const T* a, const T* b, std::int64_t n, F f) {
  constexpr int L = kLanes<T>;
  Simd<T> acc{};
  std::int64_t i = 0;
  for (; i + L <= n; i += L) acc += f(load(a + i), load(b + i));
  T total = lane_sum<T>(acc);
  for (; i < n; ++i) total += f(a[i], b[i]);
  return total;
}

/// Returns sum_i a[i] b[i], accumulated like sum_lanes. Where the target has FMA, GCC fuses each product with its
/// add (it contracts u * v + acc; the same in the scalar tail); elsewhere each product is rounded, then added.
template <class T>
T dot_lanes(const T* a, const T* b, std::int64_t n) {
  return sum_of_terms(a, b, n, [](auto u, auto v) { return u * v; });
}

/// Returns sum_i (a[i] - b[i])^2, accumulated like dot_lanes.
template <class T>
T squared_distance(const T* a, const T* b, std::int64_t n) {
  return sum_of_terms(a, b, n, [](auto u, auto v) {
    const auto d = u - v;
    return d * d;
  });
}

}  // namespace ag::kernels
