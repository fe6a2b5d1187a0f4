// rbf (LeNet-5's Euclidean RBF output units), proven three ways: gradcheck; the same units composed from
// sub, square and sum; and the closed-form derivative dy_i/dx_j = 2 (x_j - w_ij) written out here.
#include <autograd/autograd.h>
#include <doctest/doctest.h>

#include "lenet_ops/lenet_ops_support.h"

using namespace lenet_test;

namespace {

struct RbfCase {
  std::int64_t batch, features, units;
  bool centres_grad;
};

std::string describe(const RbfCase& c) {
  return fmt::format("x [{},{}] centres [{},{}] centres require grad {}", c.batch, c.features, c.units, c.features,
                     c.centres_grad);
}

std::vector<RbfCase> sweep() {
  return {{1, 3, 2, true}, {2, 5, 4, true}, {3, 9, 3, false}, {9, 4, 2, true}, {2, 84, 10, true}, {4, 84, 10, false}};
}

Inputs make_inputs(const RbfCase& c, ag::Generator& gen) {
  Tensor w = ag::uniform({c.units, c.features}, -1, 1, gen, DType::f64);
  if (c.centres_grad) w.requires_grad_();
  return {test::param({c.batch, c.features}, gen), w};
}

}  // namespace

TEST_CASE("rbf: forward values on tiny inputs") {
  const Tensor x = ag::from_vector({1, 2, 0, 0}, {2, 2}, DType::f64);
  const Tensor w = ag::from_vector({1, 1, 0, 2, 3, -1}, {3, 2}, DType::f64);
  // y[0] = (0^2 + 1^2, 1^2 + 0^2, 2^2 + 3^2), y[1] = (1 + 1, 0 + 4, 9 + 1)
  const Tensor y = ag::rbf(x, w);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.to_vector() == std::vector<double>{1, 1, 13, 2, 4, 10});
  // A 10-feature row (longer than one vector register), float32.
  const Tensor x10 = ag::full({1, 10}, 1.0),
               w10 = ag::from_vector({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, -2}, {2, 10});
  CHECK(ag::rbf(x10, w10).to_vector() == std::vector<double>{10, 9});
}

TEST_CASE("rbf: gradcheck, with and without a gradient for the centres") {
  ag::Generator gen(41);
  for (const auto& c : sweep()) {
    CAPTURE(describe(c));
    CHECK(ag::gradcheck([](const Inputs& v) { return ag::rbf(v[0], v[1]); }, make_inputs(c, gen)));
  }
}

TEST_CASE("rbf: the hand-written gradient matches the engine's gradient of the composed units") {
  ag::Generator gen(42);
  auto cases = sweep();
  cases.push_back({64, 84, 10, true});
  for (const auto& c : cases) {
    CAPTURE(describe(c));
    const Inputs in = make_inputs(c, gen);
    const Tensor fused = ag::rbf(in[0], in[1]);
    CHECK(max_abs_diff(fused, rbf_composed(in[0], in[1])) < 1e-12);
    const Tensor up = ag::normal(fused.shape(), 0, 1, gen, DType::f64);
    const auto g1 = gradients([](const Inputs& v) { return ag::rbf(v[0], v[1]); }, in, up);
    const auto g2 = gradients([](const Inputs& v) { return rbf_composed(v[0], v[1]); }, in, up);
    CHECK(max_abs_diff(g1[0], g2[0]) < 1e-10);
    CHECK(g1[1].defined() == c.centres_grad);
    if (c.centres_grad) CHECK(max_abs_diff(g1[1], g2[1]) < 1e-10);
  }
}

TEST_CASE("rbf: the derivatives equal their closed form") {
  // dy[n,i]/dx[n,j] = 2 (x[n,j] - w[i,j]) (and 0 for other samples); dy[n,i]/dw[i,j] = -2 (x[n,j] - w[i,j]).
  // Each Jacobian row comes from one backward with a one-hot upstream gradient at (n,i).
  ag::Generator gen(43);
  const RbfCase c{3, 7, 4, true};
  const Inputs in = make_inputs(c, gen);
  for (std::int64_t n = 0; n < c.batch; ++n)
    for (std::int64_t i = 0; i < c.units; ++i) {
      Tensor onehot = ag::zeros({c.batch, c.units}, DType::f64);
      onehot.set({n, i}, 1.0);
      const auto g = gradients([](const Inputs& v) { return ag::rbf(v[0], v[1]); }, in, onehot);
      Tensor dx = ag::zeros({c.batch, c.features}, DType::f64), dw = ag::zeros({c.units, c.features}, DType::f64);
      for (std::int64_t j = 0; j < c.features; ++j) {
        const double d = in[0].at({n, j}) - in[1].at({i, j});
        dx.set({n, j}, 2 * d);
        dw.set({i, j}, -2 * d);
      }
      CHECK(max_abs_diff(g[0], dx) < 1e-14);
      CHECK(max_abs_diff(g[1], dw) < 1e-14);
    }
  // The MLE loss of the paper (eq. 8) for one sample: dE/dx_j = 2 (x_j - w_correct,j).
  const Tensor x = test::param({1, 84}, gen), w = ag::uniform({10, 84}, -1, 1, gen, DType::f64);
  ag::rbf(x, w).backward(ag::from_vector({0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, {1, 10}, DType::f64));
  for (std::int64_t j = 0; j < 84; ++j)
    CHECK(x.grad().at({0, j}) == doctest::Approx(2 * (x.at({0, j}) - w.at({3, j}))));
}

TEST_CASE("rbf: float32 agrees with float64") {
  ag::Generator gen(44);
  const Inputs in = make_inputs({64, 84, 10, true}, gen);
  const Tensor y64 = ag::rbf(in[0], in[1]);
  const Tensor up = ag::normal(y64.shape(), 0, 1, gen, DType::f64);
  const auto g64 = gradients([](const Inputs& v) { return ag::rbf(v[0], v[1]); }, in, up);
  Inputs in32{to_f32(in[0]), to_f32(in[1])};
  for (auto& t : in32) t.requires_grad_();
  CHECK(max_rel_diff(ag::rbf(in32[0], in32[1]), y64) < 1e-5);
  const auto g32 = gradients([](const Inputs& v) { return ag::rbf(v[0], v[1]); }, in32, to_f32(up));
  for (std::size_t i = 0; i < 2; ++i) CHECK(max_rel_diff(g32[i], g64[i]) < 1e-5);
}

TEST_CASE("rbf: bad arguments name the op and the shapes") {
  using ag::zeros;
  CHECK_THROWS_WITH_AS(ag::rbf(zeros({84}), zeros({10, 84})),
                       "rbf: expects x [N,D] and centres [K,D], got x [84], centres [10,84]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::rbf(zeros({2, 84}), zeros({10, 83})),
                       "rbf: x has 84 features but the centres have 83: x [2,84], centres [10,83]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::rbf(zeros({2, 84}), zeros({10, 84}, DType::f64)),
                       "rbf: dtypes differ: x [2,84] float32, centres [10,84] float64", ag::Error);
  CHECK_THROWS_WITH_AS(ag::rbf(ag::from_indices({1, 2}, {1, 2}), ag::from_indices({1, 2}, {1, 2})),
                       "rbf: expects float32 or float64 tensors, got int64: x [1,2], centres [1,2]", ag::Error);
}
