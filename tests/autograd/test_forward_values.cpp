// Forward values of every op against values computed by hand.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

using ag::from_vector;
using ag::Tensor;
using V = std::vector<double>;

namespace {

void check_values(const Tensor& t, const V& expected, double tolerance = 1e-12) {
  const auto got = t.to_vector();
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(tolerance).scale(1.0));
  }
}

Tensor f64(const V& values, const ag::Shape& shape) { return from_vector(values, shape, ag::DType::f64); }

}  // namespace

TEST_CASE("arithmetic with broadcasting") {
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = f64({10, 20, 30}, {3});
  Tensor col = f64({100, 200}, {2, 1});
  check_values(a + row, {11, 22, 33, 14, 25, 36});
  check_values(a - col, {-99, -98, -97, -196, -195, -194});
  check_values(a * row, {10, 40, 90, 40, 100, 180});
  check_values(a / col, {0.01, 0.02, 0.03, 0.02, 0.025, 0.03});
  check_values(-a, {-1, -2, -3, -4, -5, -6});
  check_values(2.0 - a, {1, 0, -1, -2, -3, -4});
  check_values(6.0 / a, {6, 3, 2, 1.5, 1.2, 1});
  check_values(ag::add(row, col), {110, 120, 130, 210, 220, 230});
  CHECK(ag::add(row, col).shape() == ag::Shape{2, 3});
}

TEST_CASE("elementwise maths and activations") {
  Tensor x = f64({-1, 0, 2}, {3});
  check_values(ag::exp(x), {std::exp(-1.0), 1.0, std::exp(2.0)});
  check_values(ag::log(f64({1, std::exp(1.0)}, {2})), {0, 1});
  check_values(ag::pow(f64({2, 3}, {2}), 3.0), {8, 27});
  check_values(ag::square(x), {1, 0, 4});
  check_values(ag::sqrt(f64({4, 9}, {2})), {2, 3});
  check_values(ag::tanh(x), {std::tanh(-1.0), 0, std::tanh(2.0)});
  check_values(ag::sigmoid(x), {1 / (1 + std::exp(1.0)), 0.5, 1 / (1 + std::exp(-2.0))});
  check_values(ag::relu(x), {0, 0, 2});
  // The paper's squashing function: f(a) = 1.7159 tanh(2a/3), so f(1) ~ 1 and f(-1) ~ -1.
  check_values(ag::scaled_tanh(f64({1, -1, 0}, {3})), {1.7159 * std::tanh(2.0 / 3.0), -1.7159 * std::tanh(2.0 / 3.0), 0});
  CHECK(ag::scaled_tanh(f64({1}, {1})).item() == doctest::Approx(1.0).epsilon(1e-3));
}

TEST_CASE("sigmoid does not overflow for large |x|") {
  check_values(ag::sigmoid(f64({-1000, 1000}, {2})), {0, 1});
}

TEST_CASE("reductions") {
  Tensor x = f64({1, 5, 3, 4, 2, 6}, {2, 3});
  CHECK(ag::sum(x).item() == 21);
  CHECK(ag::mean(x).item() == 3.5);
  check_values(ag::sum(x, 0), {5, 7, 9});
  check_values(ag::sum(x, 1), {9, 12});
  CHECK(ag::sum(x, 1, true).shape() == ag::Shape{2, 1});
  check_values(ag::mean(x, -1), {3, 4});
  check_values(ag::max(x, 1), {5, 6});
  check_values(ag::max(x, 0), {4, 5, 6});
  CHECK(ag::argmax(x, 1).to_vector() == V{1, 2});
  CHECK(ag::argmin(x, 1).to_vector() == V{0, 1});
}

TEST_CASE("max sends the gradient of a tie to the first maximal element") {
  Tensor x = f64({3, 7, 7, 1}, {1, 4});
  x.requires_grad_();
  ag::sum(ag::max(x, 1)).backward();
  CHECK(x.grad().to_vector() == V{0, 1, 0, 0});
}

TEST_CASE("relu's gradient at exactly 0 is 0") {
  Tensor x = f64({-1, 0, 1}, {3});
  x.requires_grad_();
  ag::sum(ag::relu(x)).backward();
  CHECK(x.grad().to_vector() == V{0, 0, 1});
}

TEST_CASE("shape ops") {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(ag::reshape(x, {3, -1}).shape() == ag::Shape{3, 2});
  check_values(ag::transpose(x, 0, 1), {1, 4, 2, 5, 3, 6});
  CHECK(ag::flatten(ag::zeros({2, 3, 4, 5})).shape() == ag::Shape{2, 60});
  check_values(ag::expand(f64({1, 2}, {2, 1}), {2, 3}), {1, 1, 1, 2, 2, 2});
  check_values(ag::sum_to(x, {1, 3}), {5, 7, 9});
  check_values(ag::sum_to(x, {}), {21});
}

TEST_CASE("matmul, 2-D and batched") {
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f64({7, 8, 9, 10, 11, 12}, {3, 2});
  check_values(ag::matmul(a, b), {58, 64, 139, 154});
  Tensor batch = f64({1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0}, {2, 2, 3});
  Tensor out = ag::matmul(batch, b);
  CHECK(out.shape() == ag::Shape{2, 2, 2});
  check_values(out, {58, 64, 139, 154, 7, 8, 9, 10});
}

TEST_CASE("log_softmax and logsumexp are stable for large inputs") {
  Tensor x = f64({1000, 1000, 1000 + std::log(2.0)}, {1, 3});
  check_values(ag::logsumexp(x, 1), {1000 + std::log(4.0)});
  check_values(ag::log_softmax(x, 1), {std::log(0.25), std::log(0.25), std::log(0.5)});
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(ag::logsumexp(f64({-inf, -inf}, {1, 2}), 1).item() == -inf);
}

TEST_CASE("pick and the losses") {
  Tensor scores = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor target = ag::from_indices({2, 0}, {2});
  check_values(ag::pick(scores, target), {3, 4});
  // cross_entropy = mean of (logsumexp(row) - row[target])
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double lse1 = std::log(std::exp(4.0) + std::exp(5.0) + std::exp(6.0));
  CHECK(ag::cross_entropy(scores, target).item() == doctest::Approx(((lse0 - 3) + (lse1 - 4)) / 2));
  CHECK(ag::mse_loss(f64({1, 2}, {2}), f64({3, 0}, {2})).item() == 4.0);
  CHECK(ag::rbf_mle_loss(scores, target).item() == 3.5);
  // MAP (eq. 9): y_t + log(e^-j + sum_i e^-y_i), averaged.
  const double j = 2.0;
  const double map0 = 3 + std::log(std::exp(-j) + std::exp(-1.0) + std::exp(-2.0) + std::exp(-3.0));
  const double map1 = 4 + std::log(std::exp(-j) + std::exp(-4.0) + std::exp(-5.0) + std::exp(-6.0));
  CHECK(ag::rbf_map_loss(scores, target, j).item() == doctest::Approx((map0 + map1) / 2).epsilon(1e-12));
}

TEST_CASE("the MAP loss gradient is the paper's closed form") {
  // dE/dy_k = ([k = t] - e^-y_k / (e^-j + sum_i e^-y_i)) / N   (the mean over N samples)
  Tensor y = f64({0.5, 1.5, 2.5, 3.0, 0.2, 4.0}, {2, 3});
  y.requires_grad_();
  Tensor target = ag::from_indices({1, 2}, {2});
  const double j = 1.5;
  ag::rbf_map_loss(y, target, j).backward();
  for (std::int64_t n = 0; n < 2; ++n) {
    double partition = std::exp(-j);
    for (std::int64_t i = 0; i < 3; ++i) partition += std::exp(-y.at({n, i}));
    for (std::int64_t k = 0; k < 3; ++k) {
      const double expected = ((k == target.at({n}) ? 1.0 : 0.0) - std::exp(-y.at({n, k})) / partition) / 2;
      CHECK(y.grad().at({n, k}) == doctest::Approx(expected).epsilon(1e-12));
    }
  }
}

TEST_CASE("the MAP loss in float32: terms below the smallest normal number are 0, never subnormal") {
  // Row 0 is learned: classes 1 and 2 are so far that e^-y / Z ~ e^-95 and e^-150, below float's smallest normal
  // (e^-87.3); their gradients are exactly 0. Row 1's are ordinary numbers and keep the closed form.
  Tensor y = from_vector(V{0.25, 95.0, 150.0, 1.0, 2.0, 0.5}, {2, 3}, ag::DType::f32);
  y.requires_grad_();
  const Tensor target = ag::from_indices({0, 2}, {2});
  const double j = 5.0;
  const Tensor loss = ag::rbf_map_loss(y, target, j);
  const double map0 = 0.25 + std::log(std::exp(-j) + std::exp(-0.25) + std::exp(-95.0) + std::exp(-150.0));
  const double map1 = 0.5 + std::log(std::exp(-j) + std::exp(-1.0) + std::exp(-2.0) + std::exp(-0.5));
  CHECK(loss.item() == doctest::Approx((map0 + map1) / 2).epsilon(1e-6));
  loss.backward();
  const std::vector<double> grad = y.grad().to_vector();
  for (double g : grad) CHECK((g == 0 || std::fabs(g) >= std::numeric_limits<float>::min()));
  CHECK(grad[1] == 0.0);
  CHECK(grad[2] == 0.0);
  const double z0 = std::exp(-j) + std::exp(-0.25) + std::exp(-95.0) + std::exp(-150.0);
  CHECK(grad[0] == doctest::Approx((1 - std::exp(-0.25) / z0) / 2).epsilon(1e-6));
  const double z1 = std::exp(-j) + std::exp(-1.0) + std::exp(-2.0) + std::exp(-0.5);
  for (std::int64_t k = 0; k < 3; ++k) {
    const double expected = ((k == 2 ? 1.0 : 0.0) - std::exp(-y.at({1, k})) / z1) / 2;
    CHECK(grad[static_cast<std::size_t>(3 + k)] == doctest::Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE("float32 and float64 agree") {
  ag::Generator gen(3);
  Tensor x64 = ag::uniform({4, 5}, -2, 2, gen, ag::DType::f64);
  Tensor x32 = ag::to_dtype(x64, ag::DType::f32);
  auto f = [](const Tensor& x) { return ag::logsumexp(ag::scaled_tanh(ag::matmul(x, ag::transpose(x, 0, 1))), 1); };
  const auto a = f(x64).to_vector(), b = f(x32).to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(a[i]).epsilon(1e-5));
}

TEST_CASE("float32 tanh, scaled_tanh and sigmoid (vectorised forms) track float64 within 5e-7") {
  std::vector<double> xs;
  for (double x = -20; x <= 20; x += 0.0007) xs.push_back(x);
  xs.insert(xs.end(), {0.0, 1e-30, -1e-30, 0.2999, 0.3, 0.3001, 100, -100});
  const ag::Shape shape{static_cast<std::int64_t>(xs.size())};
  const Tensor x32 = from_vector(xs, shape, ag::DType::f32);
  const Tensor x64 = ag::to_dtype(x32, ag::DType::f64);  // the same inputs, exactly
  for (auto op : {&ag::tanh, &ag::scaled_tanh, &ag::sigmoid}) {
    const auto a = op(x32).to_vector(), b = op(x64).to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])));
    CHECK(worst < 5e-7);
  }
}

TEST_CASE("NaN passes through the activations in float32 and float64 (never silently becomes a number)") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto dtype : {ag::DType::f32, ag::DType::f64}) {
    const Tensor x = from_vector({nan, 1.0}, {2}, dtype);
    for (auto op : {&ag::tanh, &ag::scaled_tanh, &ag::sigmoid, &ag::relu, &ag::exp}) CHECK(std::isnan(op(x).at({0})));
  }
}

TEST_CASE("logsumexp and log_softmax over an empty dimension read nothing: -inf, and an empty result") {
  const Tensor x = ag::zeros({2, 0}, ag::DType::f64);
  const Tensor lse = ag::logsumexp(x, 1);
  REQUIRE(lse.shape() == ag::Shape{2});
  for (double v : lse.to_vector()) CHECK(v == -std::numeric_limits<double>::infinity());
  CHECK(ag::log_softmax(x, 1).shape() == ag::Shape{2, 0});
}
