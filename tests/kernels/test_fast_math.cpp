// The float32 tanh the activations use (kernels/fast_math.h) keeps its documented accuracy.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/fast_math.h"

TEST_CASE("fast_tanhf keeps its contract on every 997th float bit pattern and on the special values") {
  // The contract of kernels::fast_tanhf: absolute error below 3e-7 and relative error below 5e-7 against
  // double tanh; exactly +-1 for |x| >= 9, x itself for |x| <= 1e-30, NaN for NaN. (All 2^32 inputs were
  // checked once, offline; this stride visits every exponent and most of each binade.)
  using ag::kernels::fast_tanhf;
  double worst_abs = 0, worst_rel = 0;
  std::uint64_t nan_wrong = 0, one_wrong = 0, tiny_wrong = 0, sign_wrong = 0;
  for (std::uint64_t bits = 0; bits < (std::uint64_t{1} << 32); bits += 997) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
    const float y = fast_tanhf(x);
    if (std::isnan(x) || std::isnan(y)) {
      nan_wrong += std::isnan(x) != std::isnan(y);
      continue;
    }
    const double exact = std::tanh(static_cast<double>(x));
    const double err = std::abs(y - exact);
    worst_abs = std::max(worst_abs, err);
    if (exact != 0) worst_rel = std::max(worst_rel, err / std::abs(exact));
    one_wrong += std::abs(x) >= 9 && std::abs(y) != 1;
    tiny_wrong += std::abs(x) <= 1e-30f && y != x;
    sign_wrong += y != 0 && std::signbit(y) != std::signbit(x);
  }
  CHECK(worst_abs < 3e-7);
  CHECK(worst_rel < 5e-7);
  CHECK(nan_wrong == 0);
  CHECK(one_wrong == 0);
  CHECK(tiny_wrong == 0);
  CHECK(sign_wrong == 0);

  const float inf = std::numeric_limits<float>::infinity(), denorm = std::numeric_limits<float>::denorm_min();
  CHECK(fast_tanhf(inf) == 1.0f);
  CHECK(fast_tanhf(-inf) == -1.0f);
  CHECK(fast_tanhf(9.0f) == 1.0f);
  CHECK(fast_tanhf(-9.0f) == -1.0f);
  CHECK(fast_tanhf(std::numeric_limits<float>::max()) == 1.0f);
  CHECK(std::isnan(fast_tanhf(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isnan(fast_tanhf(-std::numeric_limits<float>::quiet_NaN())));
  CHECK(fast_tanhf(denorm) == denorm);
  CHECK(fast_tanhf(-denorm) == -denorm);
  CHECK(fast_tanhf(1e-30f) == 1e-30f);
  CHECK(fast_tanhf(std::numeric_limits<float>::min()) == std::numeric_limits<float>::min());
  CHECK(fast_tanhf(0.0f) == 0.0f);
  CHECK(fast_tanhf(-0.0f) == 0.0f);
  CHECK(!std::signbit(fast_tanhf(0.0f)));
}

