#pragma once
/// Kernels' vectors: GCC/Clang vector types at the target's widths, their loads, stores, broadcasts, fused
/// multiply-adds and lane shuffles, written so that every kernel rounds the same way wherever a value is
/// computed. With -march=native on AVX-512 the products use 64-byte vectors; on AVX2 32; on the x86-64
/// baseline (SSE2, the portable build) 16, and the multiply-add is a multiply then an add.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>


#if (defined(__FMA__) && defined(__AVX__)) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace ag::kernels {

/// Calls f(std::integral_constant<int, K>{}) with K = n when 2 <= n <= Max, else with K = 1: a count known only
/// at run time (the rows of a block) selects a kernel whose loops are unrolled for it at compile time.
template <int Max, class F>
inline void with_count(std::int64_t n, F&& f) {
  const std::int64_t k = n >= 2 && n <= Max ? n : 1;
  [&]<int... K>(std::integer_sequence<int, K...>) {
    (void)((k == K + 1 ? (f(std::integral_constant<int, K + 1>{}), true) : false) || ...);
  }(std::make_integer_sequence<int, Max>{});
}

/// The bytes of one vector register the kernels are written for: 32 (AVX, AVX2, AVX-512 tuned for 256-bit
/// vectors) or 16 (SSE2, the x86-64 baseline, when the build is not for the native machine).
#if defined(__AVX__)
inline constexpr int kVectorBytes = 32;
#else
inline constexpr int kVectorBytes = 16;
#endif

/// The bytes of the vectors of the matrix-product kernels (products.h, dots.h and their users): 64 when the
/// target has AVX-512, else kVectorBytes. A 512-bit FMA does twice the work of a 256-bit one at the same rate
/// on cores with full-width AVX-512 units (docs/performance.md), and the products' operands (padded grids, receptive fields of 400 taps) fill whole 16-float
/// vectors. The row kernels (pooling, sub-sampling) keep kVectorBytes: their rows of 14 or 5 outputs would
/// not fill a 16-float vector.
#if defined(__AVX512F__)
inline constexpr int kWideBytes = 64;
#else
inline constexpr int kWideBytes = kVectorBytes;
#endif

/// Returns n rounded up to a multiple of m (e.g. a row length padded to whole vectors).
constexpr std::int64_t round_up(std::int64_t n, std::int64_t m) { return (n + m - 1) / m * m; }

/// A vector of Bytes bytes of T elements (GCC/Clang vector extension: +, *, [] act lane by lane). A member
/// of a class rather than an alias template: GCC drops vector_size from `template <...> using V = T
/// __attribute__((vector_size(Bytes)))` (V<float, 32> would be a plain float). The member also keeps T a
/// non-deduced context in the functions below, so T always comes from their pointer argument.
template <class T, int Bytes>
struct VecOf {
  using type [[gnu::vector_size(Bytes)]] = T;
};
template <class T, int Bytes>
using Vec = typename VecOf<T, Bytes>::type;

/// Elements of type T in a vector of Bytes bytes.
template <class T, int Bytes>
inline constexpr int kLanesIn = static_cast<int>(Bytes / sizeof(T));

/// Elements of type T in one vector: 8 floats or 4 doubles with AVX.
template <class T>
inline constexpr int kLanes = kLanesIn<T, kVectorBytes>;
/// A vector of kLanes<T> elements.
template <class T>
using Simd = Vec<T, kVectorBytes>;

/// Elements of type T in one wide vector: 16 floats with AVX-512, else kLanes<T>.
template <class T>
inline constexpr int kWideLanes = kLanesIn<T, kWideBytes>;
/// A vector of kWideLanes<T> elements: the same type as Simd<T> unless the target has AVX-512.
template <class T>
using Wide = Vec<T, kWideBytes>;

/// Returns the kLanesIn<T, Bytes> values at p (no alignment needed).
template <class T, int Bytes>
inline Vec<T, Bytes> load_vec(const T* p) {
  Vec<T, Bytes> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Writes the lanes of v to p[0..kLanesIn<T, Bytes>).
template <class T, int Bytes>
inline void store_vec(T* p, const Vec<T, Bytes>& v) {
  std::memcpy(p, &v, sizeof v);
}

template <class T, int Bytes, std::size_t... I>
inline Vec<T, Bytes> splat_lanes(T x, std::index_sequence<I...>) {
  return Vec<T, Bytes>{((void)I, x)...};
}

/// Returns a vector with x in every lane (one broadcast; assigning lane by lane compiles to masked moves).
template <class T, int Bytes>
inline Vec<T, Bytes> splat_vec(T x) {
  return splat_lanes<T, Bytes>(x, std::make_index_sequence<static_cast<std::size_t>(kLanesIn<T, Bytes>)>{});
}

/// load_vec, store_vec and splat_vec at the two widths: load(p) reads kLanes<T> values, load_wide(p)
/// kWideLanes<T>, and so on.
template <class T>
inline Simd<T> load(const T* p) { return load_vec<T, kVectorBytes>(p); }
template <class T>
inline Wide<T> load_wide(const T* p) { return load_vec<T, kWideBytes>(p); }
template <class T>
inline void store(T* p, const Simd<T>& v) { store_vec<T, kVectorBytes>(p, v); }
template <class T>
inline void store_wide(T* p, const Wide<T>& v) { store_vec<T, kWideBytes>(p, v); }
template <class T>
inline Simd<T> splat(T x) { return splat_vec<T, kVectorBytes>(x); }
template <class T>
inline Wide<T> splat_wide(T x) { return splat_vec<T, kWideBytes>(x); }

/// Returns a b + c lane by lane, as one fused multiply-add per lane when the target has FMA. Written out
/// rather than left to contraction, which some tunings (e.g. -mtune=znver3) apply in some loops and not in
/// others: a value would then round differently depending on where in a register block it was computed.
inline Simd<float> fmadd(const Simd<float>& a, const Simd<float>& b, const Simd<float>& c) {
#if defined(__FMA__) && defined(__AVX__)
  return _mm256_fmadd_ps(a, b, c);
#else
  return a * b + c;
#endif
}
inline Simd<double> fmadd(const Simd<double>& a, const Simd<double>& b, const Simd<double>& c) {
#if defined(__FMA__) && defined(__AVX__)
  return _mm256_fmadd_pd(a, b, c);
#else
  return a * b + c;
#endif
}

/// Returns a b + c for scalars (float, double), fused exactly when the vector fmadd is.
template <class T>
  requires std::is_floating_point_v<T>
inline T fmadd(T a, T b, T c) {
#if defined(__FMA__) && defined(__AVX__)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

#if defined(__AVX512F__)
/// a b + c lane by lane for wide vectors, one fused multiply-add per lane (see fmadd above).
inline Wide<float> fmadd(const Wide<float>& a, const Wide<float>& b, const Wide<float>& c) {
  return _mm512_fmadd_ps(a, b, c);
}
inline Wide<double> fmadd(const Wide<double>& a, const Wide<double>& b, const Wide<double>& c) {
  return _mm512_fmadd_pd(a, b, c);
}
#endif

template <class V, std::size_t... I>
inline auto low_half(const V& v, std::index_sequence<I...>) {
  return __builtin_shufflevector(v, v, I...);
}
template <class V, std::size_t... I>
inline auto high_half(const V& v, std::index_sequence<I...>) {
  return __builtin_shufflevector(v, v, (sizeof...(I) + I)...);
}

/// Returns the sum of the N lanes of v by halves: the low half plus the high half, lane by lane, down to one
/// value. A fixed order (so deterministic), and log2 N dependent adds instead of N - 1: DotSums sums
/// thousands of accumulators per batch this way.
template <class V, std::size_t N = sizeof(V) / sizeof(std::declval<V>()[0])>
inline auto tree_lane_sum(const V& v) {
  if constexpr (N == 1) {
    return v[0];
  } else {
    const auto halves =
        low_half(v, std::make_index_sequence<N / 2>{}) + high_half(v, std::make_index_sequence<N / 2>{});
    return tree_lane_sum<decltype(halves), N / 2>(halves);
  }
}

/// Returns the sum of a wide vector's lanes, in tree_lane_sum's fixed order.
template <class T>
inline T wide_lane_sum(const Wide<T>& v) {
  return tree_lane_sum(v);
}

/// Copies n values from src to dst (not overlapping), for the short runs of a row that a library memmove
/// call would dominate: whole vectors, the last one moved back to end at n; fewer than kLanes<T> one by one.
template <class T>
inline void copy_short(const T* src, std::int64_t n, T* dst) {
  constexpr int L = kLanes<T>;
  if (n < L) {
    for (int l = 0; l < L - 1; ++l)
      if (l < n) dst[l] = src[l];
    return;
  }
  for (std::int64_t i = 0; i < n; i += L) {
    const std::int64_t at = std::min<std::int64_t>(i, n - L);
    store(dst + at, load(src + at));
  }
}

template <class T, std::size_t... I>
inline Simd<T> even_lanes(const Simd<T>& a, const Simd<T>& b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, (2 * I)...);
}
template <class T, std::size_t... I>
inline Simd<T> odd_lanes(const Simd<T>& a, const Simd<T>& b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, (2 * I + 1)...);
}
template <class T, std::size_t... I>
inline Simd<T> doubled_low(const Simd<T>& a, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, a, (I / 2)...);
}
template <class T, std::size_t... I>
inline Simd<T> doubled_high(const Simd<T>& a, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, a, (sizeof...(I) / 2 + I / 2)...);
}

template <class T, std::size_t... I>
inline Simd<T> zipped_low(const Simd<T>& a, const Simd<T>& b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, (I / 2 + (I % 2) * sizeof...(I))...);
}
template <class T, std::size_t... I>
inline Simd<T> zipped_high(const Simd<T>& a, const Simd<T>& b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, (sizeof...(I) / 2 + I / 2 + (I % 2) * sizeof...(I))...);
}

/// Returns the even-numbered elements of the 2 L values a, b (a de-interleave): a0 a2 ... b0 b2 ...
template <class T>
inline Simd<T> evens(const Simd<T>& a, const Simd<T>& b) {
  return even_lanes<T>(a, b, std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{});
}
/// Returns the odd-numbered elements of the 2 L values a, b: a1 a3 ... b1 b3 ...
template <class T>
inline Simd<T> odds(const Simd<T>& a, const Simd<T>& b) {
  return odd_lanes<T>(a, b, std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{});
}
/// Returns the first half of a with each element twice: a0 a0 a1 a1 ...
template <class T>
inline Simd<T> twice_low(const Simd<T>& a) {
  return doubled_low<T>(a, std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{});
}
/// Returns the second half of a with each element twice.
template <class T>
inline Simd<T> twice_high(const Simd<T>& a) {
  return doubled_high<T>(a, std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{});
}

/// Returns the first halves of a and b interleaved (the inverse of evens and odds): a0 b0 a1 b1 ...
template <class T>
inline Simd<T> interleave_low(const Simd<T>& a, const Simd<T>& b) {
  return zipped_low<T>(a, b, std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{});
}
/// Returns the second halves of a and b interleaved: a(L/2) b(L/2) a(L/2+1) b(L/2+1) ...
template <class T>
inline Simd<T> interleave_high(const Simd<T>& a, const Simd<T>& b) {
  return zipped_high<T>(a, b, std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{});
}

}  // namespace ag::kernels
