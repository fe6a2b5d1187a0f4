// The fast paths of the linear, sub-sampling, max-pooling and RBF kernels against their references, forward and
// backward, float and double, at LeNet-5's sizes and others (batch sizes on both sides of the linear kernel's
// switch to a transposed product).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/bytes.h"
#include "kernels/linear.h"
#include "kernels/max_pool.h"
#include "kernels/rbf.h"
#include "kernels/subsample.h"
#include "random_values.h"

using namespace ag::kernels;

namespace {

/// Checks that a and b agree to the rounding of sums of `terms` values of magnitude about 1 in T.
template <class T>
void check_close(const std::vector<T>& a, const std::vector<T>& b, std::int64_t terms) {
  REQUIRE(a.size() == b.size());
  const double eps = std::is_same_v<T, float> ? 1.2e-7 : 2.3e-16;
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / std::max(1.0, std::abs(double(b[i]))));
  CHECK(worst <= 4 * eps * static_cast<double>(terms));
}

template <class T>
void check_linear(std::int64_t batch, std::int64_t outputs, std::int64_t features) {
  CAPTURE(batch);
  CAPTURE(features);
  const auto x = random_values<T>(batch * features, 1), w = random_values<T>(outputs * features, 2);
  const auto bias = random_values<T>(outputs, 3), g = random_values<T>(batch * outputs, 4);
  std::vector<T> y[2], gx[2], gw[2], gb[2];
  for (int i = 0; i < 2; ++i) {
    const Implementation impl = i == 0 ? Implementation::fast : Implementation::reference;
    y[i].resize(static_cast<std::size_t>(batch * outputs));
    gx[i].resize(x.size());
    gw[i].resize(w.size());
    gb[i].resize(bias.size());
    linear_forward(batch, outputs, features, x.data(), w.data(), bias.data(), Activation::sigmoid, y[i].data(), impl);
    linear_backward(batch, outputs, features, x.data(), w.data(), g.data(), gx[i].data(), gw[i].data(), gb[i].data(),
                    nullptr, impl);
  }
  check_close(y[0], y[1], features);
  check_close(gx[0], gx[1], outputs);
  check_close(gw[0], gw[1], batch);
  check_close(gb[0], gb[1], batch);
}

/// The fast path's vectors may write past a narrow row into the rows after it, never past the chunk's end:
/// this many values past each output stay as they were.
constexpr std::size_t kSentinels = 64;
constexpr double kSentinel = 12345.0;

template <class T>
void check_subsample(const SubsampleShape& shape, std::int64_t batch) {
  CAPTURE(shape.width);
  CAPTURE(shape.k);
  CAPTURE(batch);
  const std::int64_t in = batch * shape.channels * shape.height * shape.width;
  const std::int64_t out = batch * shape.channels * shape.out_h() * shape.out_w();
  const auto x = random_values<T>(in, 5), coeff = random_values<T>(shape.channels, 6);
  const auto bias = random_values<T>(shape.channels, 7), g = random_values<T>(out, 8);
  // The backward from dL/dy itself, and through the scaled tanh (G = dL/dy f'(z) from y, chunk by chunk).
  for (const Activation activation : {Activation::none, Activation::scaled_tanh}) {
    CAPTURE(static_cast<int>(activation));
    std::vector<T> y[2], pooled[2], gx[2], gc[2], gb[2];
    for (int i = 0; i < 2; ++i) {
      const Implementation impl = i == 0 ? Implementation::fast : Implementation::reference;
      y[i].assign(static_cast<std::size_t>(out) + kSentinels, static_cast<T>(kSentinel));
      pooled[i] = y[i];
      gx[i].assign(x.size() + kSentinels, static_cast<T>(kSentinel));
      gc[i].resize(coeff.size());
      gb[i].resize(bias.size());
      subsample_forward(shape, batch, x.data(), coeff.data(), bias.data(), activation, y[i].data(), pooled[i].data(),
                        impl);
      subsample_backward(shape, batch, SubsampleOutputGradient<T>{g.data(), y[i].data(), activation}, coeff.data(),
                         pooled[i].data(), gx[i].data(), gc[i].data(), gb[i].data(), impl);
      for (const auto* written : {&y[i], &pooled[i], &gx[i]})
        CHECK(std::all_of(written->end() - kSentinels, written->end(), [](T v) { return v == T(kSentinel); }));
    }
    check_close(y[0], y[1], shape.k * shape.k);
    check_close(pooled[0], pooled[1], shape.k * shape.k);
    check_close(gx[0], gx[1], 1);
    check_close(gc[0], gc[1], out * shape.k * shape.k);
    check_close(gb[0], gb[1], out);
    if (activation == Activation::none) continue;
    // G itself, on the fast path: dL/dbias is its sum and dL/dx coeff G, so check them against G from the
    // activation's own gradient kernel (the one every fused op uses).
    std::vector<T> gz(static_cast<std::size_t>(out));
    activation_gradient(activation, y[0].data(), g.data(), gz.data(), out);
    for (std::int64_t n = 0; n < batch; ++n)
      for (std::int64_t c = 0; c < shape.channels; ++c) {
        const std::int64_t plane = n * shape.channels + c;
        const T expected = coeff[static_cast<std::size_t>(c)] * gz[static_cast<std::size_t>(plane * shape.out_h() * shape.out_w())];
        CHECK(gx[0][static_cast<std::size_t>(plane * shape.height * shape.width)] == expected);
      }
  }
}

template <class T>
void check_max_pool(const MaxPoolShape& shape) {
  CAPTURE(shape.width);
  CAPTURE(shape.kh);
  CAPTURE(shape.stride_h);
  const auto x = random_values<T>(shape.planes * shape.height * shape.width, 9);
  const std::int64_t out = shape.planes * shape.out_h() * shape.out_w();
  std::vector<T> y[2];
  std::vector<std::int32_t> index[2];
  for (int i = 0; i < 2; ++i) {
    y[i].resize(static_cast<std::size_t>(out));
    index[i].resize(y[i].size());
    max_pool_forward(shape, x.data(), Activation::relu, y[i].data(), index[i].data(),
                     i == 0 ? Implementation::fast : Implementation::reference);
  }
  CHECK(y[0] == y[1]);  // a maximum is exact
  CHECK(index[0] == index[1]);
  // The backward, fast (2x2 windows that tile the map: each element written once) against the reference (zeroed,
  // then each window's gradient added at its argmax), bit for bit, zeros' signs included: for each activation
  // formed in the kernel, with upstream gradients of both signs of zero.
  auto gy = random_values<T>(out, 12);
  for (std::size_t o = 0; o < gy.size(); o += 7) gy[o] = o % 2 ? T(0) : -T(0);
  const std::int64_t in = shape.planes * shape.height * shape.width;
  for (const Activation activation : {Activation::none, Activation::relu, Activation::tanh}) {
    CAPTURE(static_cast<int>(activation));
    std::vector<T> gx[2];
    for (int i = 0; i < 2; ++i) {
      gx[i].assign(static_cast<std::size_t>(in), T(7));  // every element must be written
      max_pool_backward(shape, gy.data(), activation, y[0].data(), index[0].data(), gx[i].data(),
                        i == 0 ? Implementation::fast : Implementation::reference);
    }
    CHECK(std::memcmp(gx[0].data(), gx[1].data(), gx[0].size() * sizeof(T)) == 0);
    CHECK(std::count(gx[1].begin(), gx[1].end(), T(7)) == 0);
  }
}

template <class T>
void check_rbf(std::int64_t batch, std::int64_t units, std::int64_t d) {
  const auto x = random_values<T>(batch * d, 10), w = random_values<T>(units * d, 11);
  std::vector<T> y[2];
  for (int i = 0; i < 2; ++i) {
    y[i].resize(static_cast<std::size_t>(batch * units));
    rbf_forward(batch, units, d, x.data(), w.data(), y[i].data(),
                i == 0 ? Implementation::fast : Implementation::reference);
  }
  check_close(y[0], y[1], 4 * d);
}

}  // namespace

TEST_CASE("kernel paths: linear, fast against reference") {
  for (const std::int64_t batch : {1, 3, 15, 16, 64}) {
    check_linear<float>(batch, 84, 120);
    check_linear<double>(batch, 10, 84);
    check_linear<float>(batch, 7, 13);
  }
}

TEST_CASE("kernel paths: sub-sampling, fast against reference") {
  for (const std::int64_t batch : {1, 5, 17}) {  // 17: chunks of 2 and 3 samples
    check_subsample<float>({6, 28, 28, 2}, batch);    // S2
    check_subsample<float>({16, 10, 10, 2}, batch);   // S4: rows narrower than a vector
    check_subsample<double>({16, 10, 10, 2}, batch);
    check_subsample<float>({2, 6, 6, 2}, batch);      // rows of 3 windows, planes of 9
    check_subsample<double>({1, 2, 2, 2}, batch);     // one window a plane
    check_subsample<float>({3, 9, 12, 3}, batch);
  }
}

TEST_CASE("kernel paths: max-pooling forward and backward, fast against reference (bitwise)") {
  check_max_pool<float>({2 * 6, 28, 28, 2, 2, 2, 2});
  check_max_pool<double>({3 * 16, 10, 10, 2, 2, 2, 2});
  check_max_pool<float>({4, 11, 9, 3, 3, 2, 2});
  check_max_pool<float>({4, 7, 7, 3, 3, 3, 3});
  check_max_pool<float>({5, 9, 9, 4, 4, 1, 1});
  check_max_pool<float>({3, 9, 9, 2, 2, 2, 2});    // 2x2 windows that leave a row and a column out
  check_max_pool<float>({2, 4, 40, 2, 2, 2, 2});   // rows of 20 windows: whole vectors and one moved back
  check_max_pool<double>({2, 6, 16, 2, 2, 2, 2});  // rows of exactly 8 windows
  check_max_pool<float>({2, 2, 2, 2, 2, 2, 2});    // one window a map
}

TEST_CASE("kernel paths: RBF distances, fast against reference") {
  check_rbf<float>(5, 10, 84);
  check_rbf<double>(3, 10, 84);
  check_rbf<float>(2, 4, 7);
}

TEST_CASE("kernel paths: bytes to values, an image's rows into a canvas as row by row") {
  // 28 x 28 and 5 x 3 (rows narrower than a vector) into canvases 4 columns wider: every row as scale_bytes
  // makes it (bitwise), within rounding of b scale + offset, and the canvas around the image untouched.
  for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{28, 28}, {5, 3}}) {
    CAPTURE(rows);
    CAPTURE(cols);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(rows * cols));
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
    const std::int64_t stride = cols + 4;
    const float scale = 1.275f / 255, offset = -0.1f, sentinel = 1e30f;
    std::vector<float> canvas(static_cast<std::size_t>((rows + 1) * stride), sentinel);
    scale_byte_rows(bytes.data(), rows, cols, scale, offset, canvas.data() + 2, stride);
    std::vector<float> row(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < rows; ++r) {
      scale_bytes(bytes.data() + r * cols, cols, scale, offset, row.data());
      for (std::int64_t c = 0; c < stride; ++c) {
        const float value = canvas[static_cast<std::size_t>(r * stride + c)];
        if (c < 2 || c >= cols + 2) {
          CHECK(value == sentinel);
          continue;
        }
        const auto byte = bytes[static_cast<std::size_t>(r * cols + c - 2)];
        CHECK(value == row[static_cast<std::size_t>(c - 2)]);
        CHECK(value == doctest::Approx(byte * double{scale} + offset).epsilon(1e-6));
      }
    }
    CHECK(std::all_of(canvas.end() - stride, canvas.end(), [&](float v) { return v == sentinel; }));
  }
}
