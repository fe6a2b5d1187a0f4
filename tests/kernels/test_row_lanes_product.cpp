// row_lanes_product (vectorised over the rows, W read as stored) against rows_times_transposed (vectorised
// over the outputs, W transposed): the same chain of fused multiply-adds for every output, so the same bits,
// at shapes with whole and partial vectors of rows and of outputs.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "kernels/products.h"
#include "kernels/row_lanes_product.h"
#include "kernels/transpose.h"
#include "random_values.h"

using namespace ag::kernels;

namespace {

template <class T>
void check_same_bits(std::int64_t rows, std::int64_t outputs, std::int64_t taps, bool with_bias) {
  CAPTURE(rows);
  CAPTURE(outputs);
  CAPTURE(taps);
  CAPTURE(with_bias);
  const auto a = random_values<T>(rows * taps, 1), w = random_values<T>(outputs * taps, 2);
  const auto bias = random_values<T>(outputs, 3);
  const T* b = with_bias ? bias.data() : nullptr;
  const std::int64_t ldo = round_up(outputs, kWideLanes<T>);
  std::vector<T> wt(static_cast<std::size_t>(taps * ldo)), transposed(static_cast<std::size_t>(rows * ldo));
  transpose_weights(w.data(), outputs, taps, ldo, wt.data());
  rows_times_transposed(rows, taps, a.data(), taps, wt.data(), outputs, ldo, b, transposed.data());
  // Rows `outputs + 3` apart, with a sentinel in the gaps: nothing is written outside the outputs.
  const std::int64_t ld = outputs + 3;
  std::vector<T> lanes(static_cast<std::size_t>(rows * ld), T(7));
  row_lanes_product(rows, taps, a.data(), w.data(), outputs, b, lanes.data(), ld);
  std::int64_t differ = 0, touched = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t o = 0; o < outputs; ++o) differ += lanes[r * ld + o] != transposed[r * ldo + o];
    for (std::int64_t o = outputs; o < ld; ++o) touched += lanes[r * ld + o] != T(7);
  }
  CHECK(differ == 0);
  CHECK(touched == 0);
}

}  // namespace

TEST_CASE("row_lanes_product gives rows_times_transposed's bits, float and double") {
  for (const std::int64_t rows : {1, 5, 16, 17, 40})
    for (const std::int64_t outputs : {1, 7, 8, 10, 120}) {
      check_same_bits<float>(rows, outputs, 400, true);
      check_same_bits<float>(rows, outputs, 3, false);
      check_same_bits<double>(rows, outputs, 84, true);
      check_same_bits<double>(rows, outputs, 25, false);
    }
}
