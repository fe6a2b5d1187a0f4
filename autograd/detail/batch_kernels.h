#pragma once
/// Internal, shared by the LeNet kernels (conv2d, subsample, max_pool2d, rbf): reductions written lane by
/// lane so the compiler vectorises them without reassociating, and the fixed split of a batch into chunks.
///
/// Chunks: each chunk's work is independent of the others', so the chunk loop is the one to spread over
/// threads; parameter gradients are summed per chunk and the chunk partials then added in chunk order. The
/// boundaries depend only on the batch size, never on a thread count, so results are bitwise the same
/// however many threads run the chunks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__FMA__) && defined(__AVX__)
#include <immintrin.h>
#endif

namespace ag::detail {

/// The bytes of one vector register the kernels are written for: 32 (AVX, AVX2, AVX-512 tuned for 256-bit
/// vectors) or 16 (SSE2, the x86-64 baseline, when the build is not for the native machine).
#if defined(__AVX__)
inline constexpr int kVectorBytes = 32;
#else
inline constexpr int kVectorBytes = 16;
#endif

/// Elements of type T in one vector: 8 floats or 4 doubles with AVX.
template <class T>
inline constexpr int kLanes = static_cast<int>(kVectorBytes / sizeof(T));

/// A vector of kLanes<T> elements (GCC/Clang vector extension: +, *, [] act lane by lane).
template <class T>
struct SimdOf;
template <>
struct SimdOf<float> {
  using type = float __attribute__((vector_size(kVectorBytes)));
};
template <>
struct SimdOf<double> {
  using type = double __attribute__((vector_size(kVectorBytes)));
};
template <class T>
using Simd = typename SimdOf<T>::type;

/// Returns the kLanes<T> values at p (no alignment needed).
template <class T>
inline Simd<T> load(const T* p) {
  Simd<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Writes the lanes of v to p[0..kLanes<T>).
template <class T>
inline void store(T* p, const Simd<T>& v) {
  std::memcpy(p, &v, sizeof v);
}

template <class T, std::size_t... I>
inline Simd<T> splat_lanes(T x, std::index_sequence<I...>) {
  return Simd<T>{((void)I, x)...};
}

/// Returns a vector with x in every lane.
template <class T>
inline Simd<T> splat(T x) {
  return splat_lanes<T>(x, std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{});
}

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

/// Returns a b + c for scalars, fused exactly when the vector fmadd is.
inline float fmadd(float a, float b, float c) {
#if defined(__FMA__) && defined(__AVX__)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}
inline double fmadd(double a, double b, double c) {
#if defined(__FMA__) && defined(__AVX__)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
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

/// Returns the sum of v's lanes, added in lane order.
template <class T>
inline T lane_sum(const Simd<T>& v) {
  T total = 0;
  for (int l = 0; l < kLanes<T>; ++l) total += v[l];
  return total;
}

/// Returns sum_i x[i], accumulated in kLanes<T> interleaved partial sums added in a fixed order.
template <class T>
T sum_lanes(const T* x, std::int64_t n) {
  constexpr int L = kLanes<T>;
  T acc[L] = {};
  std::int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int l = 0; l < L; ++l) acc[l] += x[i + l];
  T total = 0;
  for (int l = 0; l < L; ++l) total += acc[l];
  for (; i < n; ++i) total += x[i];
  return total;
}

/// Returns sum_i a[i] b[i], accumulated like sum_lanes.
template <class T>
T dot_lanes(const T* a, const T* b, std::int64_t n) {
  constexpr int L = kLanes<T>;
  T acc[L] = {};
  std::int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int l = 0; l < L; ++l) acc[l] += a[i + l] * b[i + l];
  T total = 0;
  for (int l = 0; l < L; ++l) total += acc[l];
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

/// Returns sum_i (a[i] - b[i])^2, accumulated like sum_lanes.
template <class T>
T squared_distance(const T* a, const T* b, std::int64_t n) {
  constexpr int L = kLanes<T>;
  T acc[L] = {};
  std::int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int l = 0; l < L; ++l) {
      const T d = a[i + l] - b[i + l];
      acc[l] += d * d;
    }
  T total = 0;
  for (int l = 0; l < L; ++l) total += acc[l];
  for (; i < n; ++i) total += (a[i] - b[i]) * (a[i] - b[i]);
  return total;
}

/// The most chunks a batch is split into (a batch of N < this has N chunks of one sample).
inline constexpr std::int64_t kMaxSampleChunks = 8;

/// Samples [begin(c), end(c)) form chunk c, for c < count.
struct SampleChunks {
  std::int64_t samples = 0;
  std::int64_t count = 0;
  std::int64_t begin(std::int64_t c) const { return c * samples / count; }
  std::int64_t end(std::int64_t c) const { return (c + 1) * samples / count; }
};

/// Returns the split of `samples` samples into min(samples, kMaxSampleChunks) near-equal chunks.
inline SampleChunks sample_chunks(std::int64_t samples) { return {samples, std::min(samples, kMaxSampleChunks)}; }

/// One zero-initialised buffer of `size` values per chunk, for a parameter gradient's per-chunk partial sums.
template <class T>
class ChunkPartials {
 public:
  ChunkPartials(std::int64_t chunks, std::int64_t size)
      : size_(size), values_(static_cast<std::size_t>(std::max<std::int64_t>(chunks, 1) * size), T(0)) {}
  /// Returns chunk c's buffer of size() values.
  T* chunk(std::int64_t c) { return values_.data() + c * size_; }
  std::int64_t size() const { return size_; }
  /// Writes the sum of all chunk buffers, added in chunk order, to out[0..size).
  void reduce_into(T* out) const {
    const std::int64_t chunks = static_cast<std::int64_t>(values_.size()) / std::max<std::int64_t>(size_, 1);
    std::copy(values_.begin(), values_.begin() + size_, out);
    for (std::int64_t c = 1; c < chunks; ++c) {
      const T* part = values_.data() + c * size_;
      for (std::int64_t i = 0; i < size_; ++i) out[i] += part[i];
    }
  }

 private:
  std::int64_t size_;
  std::vector<T> values_;
};

}  // namespace ag::detail
