// panel_product and weight_gradient_by_rows against the sum they promise, one fused multiply-add per term in
// order (a column's bits do not depend on whether it falls in a wide block, a narrow one or the packed tail);
// rows_times_weights_by_output_parts (an input gradient G W as parts over runs of W's rows, added in order)
// against the sum it promises, computed part by part with panel_product on one thread: the same bits, on 1, 2
// and 3 threads; and against rows_times_weights (one sum over all outputs) to float rounding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/block_sink.h"
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

/// C = A^T B (or C + A^T B) as the kernels promise it: for each value, acc = fmadd(A[k, r], B[k, j], acc) over k in
/// order, from 0 (or from C's value).
template <class T>
std::vector<T> chained_sums(std::int64_t rows, std::int64_t ks, std::int64_t cols, const std::vector<T>& a,
                            const std::vector<T>& b, std::vector<T> c, bool accumulate) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < cols; ++j) {
      T acc = accumulate ? c[static_cast<std::size_t>(r * cols + j)] : T(0);
      for (std::int64_t k = 0; k < ks; ++k)
        acc = fmadd(a[static_cast<std::size_t>(k * rows + r)], b[static_cast<std::size_t>(k * cols + j)], acc);
      c[static_cast<std::size_t>(r * cols + j)] = acc;
    }
  return c;
}

/// panel_product of A^T [rows, ks] (A [ks, rows] read down its columns) and B [ks, cols], fresh and accumulating,
/// against chained_sums, bit for bit.
template <class T>
void check_panel_product(std::int64_t rows, std::int64_t ks, std::int64_t cols) {
  CAPTURE(rows);
  CAPTURE(ks);
  CAPTURE(cols);
  const auto a = random_values<T>(ks * rows, 6), b = random_values<T>(ks * cols, 7);
  const auto start = random_values<T>(rows * cols, 8);
  const Range all{0, ks};
  for (const bool accumulate : {false, true}) {
    CAPTURE(accumulate);
    std::vector<T> got = start;
    panel_product(RowList{nullptr, rows, 0}, std::span(&all, 1), cols, a.data(), 1, rows, RowsOf<T>{b.data(), cols},
                  got.data(), cols, accumulate);
    CHECK(got == chained_sums(rows, ks, cols, a, b, start, accumulate));
  }
}

/// weight_gradient_by_rows (dW = G^T X) into dW and block by block to a sink, against chained_sums, bit for bit.
template <class T>
void check_weight_gradient(std::int64_t rows, std::int64_t outputs, std::int64_t taps) {
  CAPTURE(rows);
  CAPTURE(outputs);
  CAPTURE(taps);
  const auto g = random_values<T>(rows * outputs, 9), x = random_values<T>(rows * taps, 10);
  const std::vector<T> expected = chained_sums(outputs, rows, taps, g, x, std::vector<T>(outputs * taps), false);
  std::vector<T> into_dw(expected.size(), T(7));
  weight_gradient_by_rows(rows, outputs, taps, g.data(), x.data(), into_dw.data());
  CHECK(into_dw == expected);
  std::vector<T> sent(expected.size(), T(7));
  const BlockSink sink{[](void* context, std::int64_t begin, std::int64_t end, const void* values) {
                         std::copy_n(static_cast<const T*>(values), end - begin, static_cast<T*>(context) + begin);
                       },
                       sent.data()};
  weight_gradient_by_rows<T>(rows, outputs, taps, g.data(), x.data(), nullptr, &sink);
  CHECK(sent == expected);
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

TEST_CASE("panel_product sums every column in order, whether in a wide vector, a narrow one or the tail") {
  // Columns from 1 to past two wide vectors, one narrow one and a tail; rows in blocks of 1 to kPanelRows.
  for (const std::int64_t rows : {1, 5, 6, 7, 13})
    for (std::int64_t cols = 1; cols <= 2 * kWideLanes<float> + kLanes<float> + 3; ++cols) {
      check_panel_product<float>(rows, 16, cols);
      check_panel_product<double>(rows, 5, cols);
    }
}

TEST_CASE("weight_gradient_by_rows sends the same bits as it writes, with X's last columns packed once") {
  // F6's 120 taps (a tail of half a wide vector), C5's 400, and tails of 1 and 6; a batch of 1 (outer products)
  // and batches past kOuterRowsMax.
  for (const std::int64_t rows : {1, 16, 33})
    for (const std::int64_t taps : {120, 400, 121, 150}) {
      check_weight_gradient<float>(rows, 84, taps);
      check_weight_gradient<double>(rows, 13, taps);
    }
}

TEST_CASE("rows_times_weights_by_output_parts gives the sum of its parts on any thread count, float and double") {
  for (const std::int64_t rows : {1, 5, 16, 32})
    for (const std::int64_t outputs : {0, 1, 6, 7, 84, 120}) {
      check_parts<float>(rows, outputs, 400);
      check_parts<float>(rows, outputs, 19);
      check_parts<double>(rows, outputs, 120);
    }
}
