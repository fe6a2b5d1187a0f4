#pragma once
/// Internal: exp and tanh for float32 written as straight-line arithmetic (no calls, no branches the
/// compiler cannot turn into blends), so loops over them vectorise. libm's tanhf is a scalar call and
/// was a fifth of LeNet-5's training time. float64 keeps libm: gradient checks want its last bit.
#include <bit>
#include <cmath>
#include <cstdint>

namespace ag::kernels {

/// Rounding to an integer, and its power of two, without conversions. Adding kRoundShift = 1.5 * 2^23 + 127
/// to a float v with |v| < 2^21 lands in [2^23, 2^24), where the floats are exactly the integers: the
/// addition rounds v to the nearest integer n (exact in float arithmetic, and unlike nearbyint not a
/// library call), and subtracting kRoundShift again gives n exactly. The low mantissa bits of the sum then
/// hold 127 + n, the biased exponent of 2^n; shifting them into the exponent field builds 2^n (the bits of
/// 1.5 * 2^23 are shifted out). Valid for -126 <= n <= 127. Bit operations rather than a float-to-int
/// conversion: one instruction instead of three, and a NaN reaching here is not undefined behaviour.
inline constexpr float kRoundShift = 12582912.0f + 127.0f;
inline float pow2_of_shifted(float shifted) {
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(shifted) << 23);
}

/// Returns the polynomial c0 x^n + c1 x^(n-1) + ... + cn at x by Horner's rule, highest coefficient first:
/// p = c0, then p = p x + c for each next c, the evaluation order both approximations below rely on.
template <class... C>
inline float horner(float x, float c0, C... rest) {
  float p = c0;
  ((p = p * x + rest), ...);
  return p;
}

/// e^x for float, relative error below 2e-7 on [-87, 88] (inputs are clamped to that range).
inline float fast_expf(float x) {
  // e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln(2)/2; e^r by its Taylor polynomial to r^7
  // (remainder under 1.3e-8 relative). ln 2 is split in two parts so that n ln 2 is subtracted exactly.
  // Plain comparisons, not fmin/fmax: those must honour NaN rules that block vectorisation.
  // Written so that a NaN compares false and is clamped too.
  x = x > -87.0f ? x : -87.0f;
  x = x < 88.0f ? x : 88.0f;
  const float shifted = x * 1.44269504088896341f + kRoundShift;  // -126 <= n <= 127 after the clamp
  const float n = shifted - kRoundShift;
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  const float p = horner(r, 1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f);
  return p * pow2_of_shifted(shifted);
}

/// tanh(x) for float, absolute error below 3e-7 and relative error below 5e-7 everywhere (measured on all
/// 2^32 inputs against double tanh, with and without FMA: at most 9.0e-8 and 2.4e-7). Exactly +-1 for
/// |x| >= 9 and +-inf, exactly x for |x| <= 1e-30 (subnormals included), +0 for -0, NaN for NaN; odd.
/// Not monotonic at the last-bit level (it can step back by up to 2 ulps), which nothing here needs.
inline float fast_tanhf(float x) {
  // With a = |x| and E = e^(2a) - 1:  tanh a = (e^(2a) - 1) / (e^(2a) + 1) = E / (E + 2). One exp-like
  // evaluation gives E to a small relative error for every a, tiny a included, so nothing cancels and
  // no separate series is needed for small a:
  //   2a = n ln 2 + 2h with n = round(2a / ln 2), |h| <= ln(2)/4, and q = e^(2h) - 1 by its Taylor
  //   polynomial without the constant term (sum of (2h)^k / k!, k = 1..7; remainder under 7.3e-9, 2.5e-8
  //   relative); then E = 2^n (1 + q) - 1 = 2^n q + (2^n - 1). The product by 2^n is exact, and so is
  //   2^n - 1 for n <= 24 (beyond, its rounding cannot show in the quotient), so this rounds once, fused
  //   or not. For n = 0 (a < ln(2)/4) it is E = q; the worst amplification of q's error is 1.42 (n = 1,
  //   2h = -ln(2)/2, where 2q = -0.59 and E = 0.41).
  //   The quotient never amplifies a relative error of E (d log tanh / d log E = 2 / (E + 2) <= 1) and
  //   adds two roundings, E + 2 and the division.
  // Error budget in roundings of u = 2^-24 relative: for n = 0, the last Horner step (p ~ 2), q = p h,
  // E + 2 and the division: 4u = 2.4e-7, which the exhaustive check attains (near x = 1.5e-5); for n = 1,
  // at most 0.83 (1.42 * 2u + 0.6u) + 0.83u + u = 4.7u = 2.8e-7. Absolute error: about 1.5 ulps of 1.
  // One float constant suffices for ln(2)/2, unlike fast_expf's two-part ln 2: its error of 9.5e-10 only
  // evaluates tanh at a shifted by n 9.5e-10, moving it by sech^2(a) n 9.5e-10 < 2e-9. Without FMA the
  // product n ln(2)/2 is rounded once more, a shift of a by at most 2^-24 a, moving tanh by at most
  // 2^-24 max(a sech^2 a) < 3e-8. For tiny a all is exact: n = 0, h = a, q = 2a, E + 2 = 2, result a.
  const float a = std::fabs(x);
  // tanh 9 = 1 - 3.05e-8, so 1 is within 2^-24 of tanh a for a >= 9: evaluate at 10 instead, where
  // E = 4.9e8 and E + 2 rounds to E, so the quotient is exactly 1. Written as a >= 9 (false for a NaN)
  // so that a NaN flows through the arithmetic below and comes out as NaN (the shift of its bits is
  // harmless). GCC turns this select into masked arithmetic and one blend.
  const float c = a >= 9.0f ? 10.0f : a;
  const float shifted = c * 2.88539008177792681f + kRoundShift;  // 2 / ln 2; 0 <= n <= 29
  const float n = shifted - kRoundShift;
  const float h = c - n * 0.346573590279972655f;  // ln(2) / 2
  // q = h (2 + h (4/2 + h (8/6 + h (16/24 + h (32/120 + h (64/720 + h 128/5040)))))), Horner's rule.
  const float q = horner(h, 128.0f / 5040, 64.0f / 720, 32.0f / 120, 16.0f / 24, 8.0f / 6, 2.0f, 2.0f) * h;
  const float s = pow2_of_shifted(shifted);
  const float e = s * q + (s - 1.0f);
  const float y = e / (e + 2.0f);
  // y >= 0 (or NaN); give it x's sign. x + 0 is x, except that -0 + 0 = +0, so -0 gives +0 as it always
  // did. copysign is one bit operation, where x < 0 ? -y : y costs a compare and a blend.
  return std::copysign(y, x + 0.0f);
}

}  // namespace ag::kernels
