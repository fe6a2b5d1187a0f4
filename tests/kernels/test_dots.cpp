// dots_with_row (one row against up to a vector's width of rows, their lanes added all at once) against the value
// dots.h promises and dot_block computes: per row, a lane-wise chain of fused multiply-adds over the vectors in
// order, then the lanes in tree_lane_sum's order; bit for bit, float and double, every row count.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/dots.h"
#include "random_values.h"

using namespace ag::kernels;

namespace {

/// sum_p A_u[p] b[p] as dots.h defines it: lane l of a vector chain adds A_u[p] b[p] for the p = l mod kWideLanes
/// in order (one fused multiply-add each), then the chain's lanes are added by tree_lane_sum.
template <class T>
T promised_dot(std::int64_t n, const T* a, const T* b) {
  Wide<T> chain{};
  for (std::int64_t p = 0; p < n; p += kWideLanes<T>) chain = fmadd(load_wide(a + p), load_wide(b + p), chain);
  return wide_lane_sum<T>(chain);
}

template <class T>
void check_dots_with_row(std::int64_t n) {
  constexpr int L = kWideLanes<T>;
  CAPTURE(n);
  const auto a = random_values<T>(L * n, 11), b = random_values<T>(n, 12);
  const T* rows[L];
  for (int u = 0; u < L; ++u) rows[u] = a.data() + u * n;
  for (int ru = 1; ru <= L; ++ru) {
    CAPTURE(ru);
    std::vector<T> got(L + 1, T(7));
    dots_with_row(n, rows, ru, b.data(), got.data());
    CHECK(got[static_cast<std::size_t>(ru)] == T(7));  // nothing written past the ru sums
    std::vector<T> by_blocks(static_cast<std::size_t>(ru));
    const T* column = b.data();
    for (int u0 = 0; u0 < ru; u0 += kDotRowsA)
      dot_block(n, rows + u0, std::min(kDotRowsA, ru - u0), &column, 1, by_blocks.data() + u0, 1);
    for (int u = 0; u < ru; ++u) {
      CAPTURE(u);
      CHECK(got[static_cast<std::size_t>(u)] == promised_dot(n, rows[u], b.data()));
      CHECK(got[static_cast<std::size_t>(u)] == by_blocks[static_cast<std::size_t>(u)]);
    }
  }
}

}  // namespace

TEST_CASE("dots_with_row gives dot_block's sums, bit for bit, for every row count") {
  for (const std::int64_t vectors : {0, 1, 2, 7, 25, 70}) {
    check_dots_with_row<float>(vectors * kWideLanes<float>);
    check_dots_with_row<double>(vectors * kWideLanes<double>);
  }
}

TEST_CASE("lane_sums_of adds each vector's lanes in tree_lane_sum's order") {
  constexpr int L = kWideLanes<float>;
  const auto values = random_values<float>(L * L, 13);
  Wide<float> vectors[L];
  for (int u = 0; u < L; ++u) vectors[u] = load_wide(values.data() + u * L);
  float expected[L];
  for (int u = 0; u < L; ++u) expected[u] = wide_lane_sum<float>(vectors[u]);
  alignas(64) float got[L];
  store_wide(got, lane_sums_of<float>(vectors));
  for (int u = 0; u < L; ++u) CHECK(got[u] == expected[u]);
}
