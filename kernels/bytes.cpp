// Bytes to values. With AVX2, for float, 8 bytes at a time: one widening to 32-bit integers and one
// conversion, the last 8 moved back to end at n (recomputing a few values identically); else, and for runs
// narrower than 8, one by one. Written by hand because GCC widens the bytes lane by lane from the plain loop.
#include "kernels/bytes.h"

#include <algorithm>

#include "kernels/simd.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace ag::kernels {

namespace {

// One row, inlined into the loops over rows below (a call per row of 28 pixels cost as much as the row).
inline void scale_row(const std::uint8_t* bytes, std::int64_t n, float scale, float offset, float* out) {
  std::int64_t done = 0;
#if defined(__AVX2__)
  if (n >= 8) {
    const Simd<float> scale_v = splat(scale), offset_v = splat(offset);
    for (std::int64_t c = 0; c < n; c += 8) {
      const std::int64_t at = std::min<std::int64_t>(c, n - 8);
      const __m128i eight = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes + at));
      const Simd<float> values = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(eight));
      store(out + at, values * scale_v + offset_v);
    }
    done = n;
  }
#endif
  for (std::int64_t c = done; c < n; ++c) out[c] = static_cast<float>(bytes[c]) * scale + offset;
}

inline void scale_row(const std::uint8_t* bytes, std::int64_t n, double scale, double offset, double* out) {
  for (std::int64_t c = 0; c < n; ++c) out[c] = static_cast<double>(bytes[c]) * scale + offset;
}

}  // namespace

void scale_bytes(const std::uint8_t* bytes, std::int64_t n, float scale, float offset, float* out) {
  scale_row(bytes, n, scale, offset, out);
}

void scale_bytes(const std::uint8_t* bytes, std::int64_t n, double scale, double offset, double* out) {
  scale_row(bytes, n, scale, offset, out);
}

void scale_byte_rows(const std::uint8_t* bytes, std::int64_t rows, std::int64_t cols, float scale, float offset,
                     float* out, std::int64_t out_stride) {
  for (std::int64_t r = 0; r < rows; ++r) scale_row(bytes + r * cols, cols, scale, offset, out + r * out_stride);
}

void scale_byte_rows(const std::uint8_t* bytes, std::int64_t rows, std::int64_t cols, double scale, double offset,
                     double* out, std::int64_t out_stride) {
  for (std::int64_t r = 0; r < rows; ++r) scale_row(bytes + r * cols, cols, scale, offset, out + r * out_stride);
}

}  // namespace ag::kernels
