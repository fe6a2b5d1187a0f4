#pragma once
/// The convolution shapes that have kernels specialised for them, all in one place: the row kernels are
/// compiled for fixed row widths and kernel sizes (their register blocks are unrolled at compile time), so
/// each shape they serve is listed here. Today these are LeNet-5's: C1 (rows of 28 outputs, 5 x 5 kernels)
/// and C3 (rows of 10, 5 wide). Another shape is one more line in the function that lists its kind; every
/// other shape runs the general paths (plan.cpp chooses).
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/simd.h"

namespace ag::kernels {

/// Calls f(std::integral_constant<int, OW>{}, std::integral_constant<int, KW>{}) and returns true when the
/// row kernels (direct_row, direct_input_row, direct_weight_row: stride 1, rows of OW outputs, KW-wide
/// kernels) are instantiated for (out_w, kw) and fit the vector registers (OW + IW + 1 of them, IW = OW +
/// KW - 1); else returns false. Instantiated for LeNet-5's C3 (10, 5); another shape is one more line here.
template <class F>
bool with_row_kernel_shape(std::int64_t out_w, std::int64_t kw, F&& f) {
  constexpr int registers = kWideBytes == 64 ? 32 : 16;
  const auto fits = [&](int ow, int k) { return ow + (ow + k - 1) + 1 <= registers; };
  if (out_w == 10 && kw == 5 && fits(10, 5)) {
    f(std::integral_constant<int, 10>{}, std::integral_constant<int, 5>{});
    return true;
  }
  return false;
}

/// The register blocking of the row-vectorised kernels for rows of OW outputs and KW-wide kernels, in
/// vectors of type T: V vectors a row, R output rows a forward block (R V accumulators; more than 4 spill
/// the weights' broadcasts), KI kernel rows a dL/dW pass (KI KW accumulators, plus 2 V for two rows of G
/// and 3 more).
template <class T, int OW, int KW>
struct RowVectorisedBlocking {
  static constexpr int L = kWideLanes<T>;
  static constexpr int registers = kWideBytes == 64 ? 32 : 16;
  static constexpr int V = (OW + L - 1) / L;
  static constexpr int R = std::min(4, (registers - V - 2) / V);
  static constexpr int KI = (registers - 2 * V - 3) / KW;
  /// Whether the kernels apply: rows of at least one whole vector, and room for one block and one pass.
  static constexpr bool fits = OW >= L && R >= 1 && KI >= 1;
  /// Returns where vector v of a row starts.
  static constexpr std::int64_t start(int v) { return std::min(v * L, OW - L); }
};

/// Calls f(std::integral_constant<int, OW>{}, std::integral_constant<int, KH>{}, std::integral_constant<int,
/// KW>{}) and returns true when the row-vectorised kernels are instantiated for rows of out_w outputs and
/// kh x kw kernels and fit the registers for T; else returns false. Instantiated for LeNet-5's C1 (28, 5 x
/// 5); another shape is one more line here.
template <class T, class F>
bool with_row_vectorised_shape(std::int64_t out_w, std::int64_t kh, std::int64_t kw, F&& f) {
  // Compiled only where the blocking fits: with SSE2's 2-lane double vectors a row of 28 needs 14 of the 16
  // registers, and a block of the kernels would have no room (its KI would be negative).
  if constexpr (RowVectorisedBlocking<T, 28, 5>::fits) {
    if (out_w == 28 && kh == 5 && kw == 5) {
      f(std::integral_constant<int, 28>{}, std::integral_constant<int, 5>{}, std::integral_constant<int, 5>{});
      return true;
    }
  }
  return false;
}

}  // namespace ag::kernels
