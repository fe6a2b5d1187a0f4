#pragma once
/// Internal: exp and tanh for float32 written as straight-line arithmetic (no calls, no branches the
/// compiler cannot turn into blends), so loops over them vectorise. libm's tanhf is a scalar call and
/// was a fifth of LeNet-5's training time. float64 keeps libm: gradient checks want its last bit.
#include <bit>
#include <cmath>
#include <cstdint>

namespace ag::detail {

/// e^x for float, relative error below 2e-7 on [-87, 88] (inputs are clamped to that range).
inline float fast_expf(float x) {
  // e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln(2)/2; e^r by its Taylor polynomial to r^7
  // (remainder under 1.3e-8 relative). ln 2 is split in two parts so that n ln 2 is subtracted exactly.
  // Plain comparisons, not fmin/fmax: those must honour NaN rules that block vectorisation.
  // Written so that a NaN compares false and is clamped too: the int conversion below must never see one.
  x = x > -87.0f ? x : -87.0f;
  x = x < 88.0f ? x : 88.0f;
  // Rounding to nearest by adding and subtracting 1.5 * 2^23 (exact in float arithmetic, and unlike
  // nearbyint not a library call).
  constexpr float kRound = 12582912.0f;
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const auto biased = static_cast<std::int32_t>(n) + 127;  // 2^n built from its exponent bits
  return p * std::bit_cast<float>(biased << 23);
}

/// tanh(x) for float, absolute error below 3e-7 and relative error below 5e-7 everywhere.
inline float fast_tanhf(float x) {
  const float a = std::fabs(x);
  // Small |x|: the odd Taylor series to x^11 (the next term is under 2e-8 relative at |x| = 0.3).
  const float a2 = a * a;
  float series = -1382.0f / 155925;
  series = series * a2 + 62.0f / 2835;
  series = series * a2 - 17.0f / 315;
  series = series * a2 + 2.0f / 15;
  series = series * a2 - 1.0f / 3;
  series = (series * a2) * a + a;
  // Otherwise tanh a = 1 - 2 / (e^(2a) + 1); for a >= 9, e^(2a) makes this exactly 1 in float.
  const float e = fast_expf(a < 9.0f ? 2 * a : 18.0f);
  const float far = 1.0f - 2.0f / (e + 1.0f);
  const float magnitude = a < 0.3f ? series : far;
  const float result = x < 0 ? -magnitude : magnitude;
  return x == x ? result : x;  // NaN in, NaN out (the arithmetic above would turn it into 1)
}

}  // namespace ag::detail
