// rows_times_weights_by_output_parts (an input gradient G W as parts over runs of W's rows, added in order)
// against the sum it promises, computed part by part with panel_product on one thread: the same bits, on 1, 2
// and 3 threads; and against rows_times_weights (one sum over all outputs) to float rounding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/products.h"
#include "random_values.h"

using namespace ag::kernels;

namespace {

/// The documented value: part p sums G[r, o] W[o, :] over its run of outputs in order, and the parts are
/// added in order. Runs of whole blocks of kPanelRows outputs, as SampleChunks splits them.
template <class T>
std::vector<T> sum_of_parts(std::int64_t rows, std::int64_t outputs, std::int64_t taps, const std::vector<T>& g,
                            const std::vector<T>& w) {
  const std::int64_t blocks = (outputs + kPanelRows - 1) / kPanelRows;
  const SampleChunks parts{blocks, std::clamp<std::int64_t>(blocks, 1, kOutputParts)};
  std::vector<T> total(static_cast<std::size_t>(rows * taps)), part(total.size());
  for (std::int64_t p = 0; p < parts.count; ++p) {
    const Range run{parts.begin(p) * kPanelRows, std::min(outputs, parts.end(p) * kPanelRows)};
    panel_product(RowList{nullptr, rows, 0}, std::span(&run, 1), taps, g.data(), outputs, 1,
                  RowsOf<T>{w.data(), taps}, part.data(), taps, false, kPanelRowsMax);
    for (std::size_t i = 0; i < total.size(); ++i) total[i] = p == 0 ? part[i] : total[i] + part[i];
  }
  return total;
}

template <class T>
void check_parts(std::int64_t rows, std::int64_t outputs, std::int64_t taps) {
  CAPTURE(rows);
  CAPTURE(outputs);
  CAPTURE(taps);
  const auto g = random_values<T>(rows * outputs, 4), w = random_values<T>(outputs * taps, 5);
  const std::vector<T> expected = sum_of_parts(rows, outputs, taps, g, w);
  std::vector<T> whole(static_cast<std::size_t>(rows * taps));
  rows_times_weights(rows, outputs, taps, g.data(), w.data(), whole.data(), taps);
  for (const int threads : {1, 2, 3}) {
    CAPTURE(threads);
    set_thread_count(threads);
    // Rows taps + 5 apart, with a sentinel in the gaps: nothing is written outside the rows.
    const std::int64_t ld = taps + 5;
    std::vector<T> got(static_cast<std::size_t>(rows * ld), T(7));
    rows_times_weights_by_output_parts(rows, outputs, taps, g.data(), w.data(), got.data(), ld);
    std::int64_t differ = 0, touched = 0;
    double worst = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t k = 0; k < taps; ++k) {
        const T value = got[static_cast<std::size_t>(r * ld + k)];
        differ += value != expected[static_cast<std::size_t>(r * taps + k)];
        worst = std::max(worst, std::abs(static_cast<double>(value - whole[static_cast<std::size_t>(r * taps + k)])));
      }
      for (std::int64_t k = taps; k < ld; ++k) touched += got[static_cast<std::size_t>(r * ld + k)] != T(7);
    }
    CHECK(differ == 0);
    CHECK(touched == 0);
    // Sums of up to 120 products of values in [-1, 1): within a few units in the last place of such sums.
    CHECK(worst <= (sizeof(T) == 4 ? 1e-4 : 1e-12));
  }
  set_thread_count(1);
}

}  // namespace

TEST_CASE("rows_times_weights_by_output_parts gives the sum of its parts on any thread count, float and double") {
  for (const std::int64_t rows : {1, 5, 16, 32})
    for (const std::int64_t outputs : {0, 1, 6, 7, 84, 120}) {
      check_parts<float>(rows, outputs, 400);
      check_parts<float>(rows, outputs, 19);
      check_parts<double>(rows, outputs, 120);
    }
}
