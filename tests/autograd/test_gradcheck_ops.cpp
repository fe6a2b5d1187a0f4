// Every op of the engine, proven by gradcheck (central differences in float64) on random shapes and
// values, broadcasting cases included, test points kept away from kinks.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include "support/random_inputs.h"

using ag::Shape;
using ag::Tensor;
using Inputs = std::vector<Tensor>;

namespace {

/// Shape pairs that broadcast: equal, trailing vector, leading 1s, scalar, both stretched.
const std::vector<std::pair<Shape, Shape>> kBroadcastPairs = {
    {{3, 4}, {3, 4}}, {{2, 3, 4}, {4}}, {{3, 1}, {1, 4}}, {{2, 3}, {}}, {{}, {2, 3}}, {{2, 1, 4}, {3, 1}},
};

}  // namespace

TEST_CASE("gradcheck: add, sub, mul, div with broadcasting") {
  ag::Generator gen(1);
  for (const auto& [sa, sb] : kBroadcastPairs) {
    CAPTURE(ag::shape_str(sa));
    CAPTURE(ag::shape_str(sb));
    Tensor a = test::param(sa, gen), b = test::param(sb, gen);
    Tensor positive = test::param(sb, gen, 0.5, 2.0);  // divisor kept away from 0
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::add(in[0], in[1]); }, {a, b}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::sub(in[0], in[1]); }, {a, b}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::mul(in[0], in[1]); }, {a, b}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::div(in[0], in[1]); }, {a, positive}));
  }
}

TEST_CASE("gradcheck: a binary op where only one input requires a gradient") {
  ag::Generator gen(2);
  Tensor a = test::param({3, 2}, gen);
  Tensor constant = ag::uniform({2}, 0.5, 1.0, gen, ag::DType::f64);
  CHECK(ag::gradcheck([&](const Inputs& in) { return ag::div(in[0], constant); }, {a}));
  CHECK(ag::gradcheck([&](const Inputs& in) { return ag::mul(constant, in[0]); }, {a}));
}

TEST_CASE("gradcheck: neg and the scalar forms") {
  ag::Generator gen(3);
  for (int trial = 0; trial < 3; ++trial) {
    Tensor x = test::param(test::random_shape(2, gen), gen, 0.5, 2.0);
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::neg(in[0]); }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return in[0] + 1.5; }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return in[0] - 1.5; }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return 2.0 - in[0]; }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return in[0] * -3.0; }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return in[0] / 4.0; }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return 2.0 / in[0]; }, {x}));
  }
}

TEST_CASE("gradcheck: exp, log, pow, square, sqrt") {
  ag::Generator gen(4);
  for (int trial = 0; trial < 3; ++trial) {
    const Shape shape = test::random_shape(3, gen);
    Tensor x = test::param(shape, gen);
    Tensor positive = test::param(shape, gen, 0.3, 2.0);
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::exp(in[0]); }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::log(in[0]); }, {positive}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::pow(in[0], 3.0); }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::pow(in[0], -1.5); }, {positive}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::square(in[0]); }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::sqrt(in[0]); }, {positive}));
  }
}

TEST_CASE("gradcheck: tanh, scaled_tanh, sigmoid, relu (away from the kink at 0)") {
  ag::Generator gen(5);
  for (int trial = 0; trial < 3; ++trial) {
    const Shape shape = test::random_shape(2, gen, 5);
    Tensor x = test::param(shape, gen, -3.0, 3.0);
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::tanh(in[0]); }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::scaled_tanh(in[0]); }, {x}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::sigmoid(in[0]); }, {x}));
    Tensor away = test::param_away_from_zero(shape, gen);
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::relu(in[0]); }, {away}));
  }
}

TEST_CASE("gradcheck: sum and mean, over everything and along each dimension") {
  ag::Generator gen(6);
  Tensor x = test::param({2, 3, 4}, gen);
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::sum(in[0]); }, {x}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::mean(in[0]); }, {x}));
  for (std::int64_t dim = -3; dim < 3; ++dim)
    for (bool keepdim : {false, true}) {
      CAPTURE(dim);
      CAPTURE(keepdim);
      CHECK(ag::gradcheck([=](const Inputs& in) { return ag::sum(in[0], dim, keepdim); }, {x}));
      CHECK(ag::gradcheck([=](const Inputs& in) { return ag::mean(in[0], dim, keepdim); }, {x}));
    }
}

TEST_CASE("gradcheck: max along a dimension (distinct values: no ties)") {
  ag::Generator gen(7);
  Tensor x = test::param({3, 4, 5}, gen);  // continuous random values: ties have probability 0
  for (std::int64_t dim = 0; dim < 3; ++dim)
    for (bool keepdim : {false, true})
      CHECK(ag::gradcheck([=](const Inputs& in) { return ag::max(in[0], dim, keepdim); }, {x}));
}

TEST_CASE("gradcheck: reshape, flatten, transpose, expand, sum_to") {
  ag::Generator gen(8);
  Tensor x = test::param({2, 3, 4}, gen);
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::reshape(in[0], {4, -1}); }, {x}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::flatten(in[0]); }, {x}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::flatten(in[0], 0, 1); }, {x}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::transpose(in[0], 0, 2); }, {x}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::transpose(in[0], -1, -2); }, {x}));
  Tensor small = test::param({3, 1}, gen);
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::expand(in[0], {2, 3, 4}); }, {small}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::sum_to(in[0], {3, 1}); }, {x}));
}

TEST_CASE("gradcheck: matmul, 2-D, batched and with a broadcast batch") {
  ag::Generator gen(9);
  for (int trial = 0; trial < 3; ++trial) {
    const auto m = 1 + static_cast<std::int64_t>(gen.below(4));
    const auto k = 1 + static_cast<std::int64_t>(gen.below(4));
    const auto n = 1 + static_cast<std::int64_t>(gen.below(4));
    auto f = [](const Inputs& in) { return ag::matmul(in[0], in[1]); };
    CHECK(ag::gradcheck(f, {test::param({m, k}, gen), test::param({k, n}, gen)}));
    CHECK(ag::gradcheck(f, {test::param({2, m, k}, gen), test::param({2, k, n}, gen)}));
    CHECK(ag::gradcheck(f, {test::param({3, m, k}, gen), test::param({k, n}, gen)}));
    CHECK(ag::gradcheck(f, {test::param({2, 1, m, k}, gen), test::param({3, k, n}, gen)}));
  }
}

TEST_CASE("gradcheck: log_softmax and logsumexp along each dimension") {
  ag::Generator gen(10);
  Tensor x = test::param({3, 4, 2}, gen, -3.0, 3.0);
  for (std::int64_t dim = 0; dim < 3; ++dim) {
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::log_softmax(in[0], dim); }, {x}));
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::logsumexp(in[0], dim); }, {x}));
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::logsumexp(in[0], dim, true); }, {x}));
  }
}

TEST_CASE("gradcheck: pick one element per row") {
  ag::Generator gen(11);
  Tensor x = test::param({5, 4}, gen);
  Tensor index = test::classes(5, 4, gen);
  CHECK(ag::gradcheck([&](const Inputs& in) { return ag::pick(in[0], index); }, {x}));
}

TEST_CASE("gradcheck: the losses") {
  ag::Generator gen(12);
  Tensor scores = test::param({6, 5}, gen, -2.0, 2.0);
  Tensor target = test::classes(6, 5, gen);
  Tensor distances = test::param({6, 5}, gen, 0.0, 8.0);  // RBF outputs are squared distances
  CHECK(ag::gradcheck([&](const Inputs& in) { return ag::cross_entropy(in[0], target); }, {scores}));
  // cross_entropy's hand-written rule against the rule the engine derives for the ops it fuses.
  const Tensor fused = ag::cross_entropy(scores, target);
  const Tensor composed = ag::neg(ag::mean(ag::pick(ag::log_softmax(scores, 1), target)));
  CHECK(fused.item() == doctest::Approx(composed.item()).epsilon(1e-14));
  const std::vector<double> fused_grad = ag::grad(fused, {scores})[0].to_vector();
  const std::vector<double> composed_grad = ag::grad(composed, {scores})[0].to_vector();
  REQUIRE(fused_grad.size() == composed_grad.size());
  for (std::size_t i = 0; i < fused_grad.size(); ++i) CHECK(fused_grad[i] == doctest::Approx(composed_grad[i]).epsilon(1e-13));
  CHECK(ag::gradcheck([&](const Inputs& in) { return ag::rbf_mle_loss(in[0], target); }, {distances}));
  for (double j : {0.1, 1.0, 10.0})
    CHECK(ag::gradcheck([&](const Inputs& in) { return ag::rbf_map_loss(in[0], target, j); }, {distances}));
  Tensor prediction = test::param({3, 4}, gen), goal = test::param({3, 4}, gen);
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::mse_loss(in[0], in[1]); }, {prediction, goal}));
}

TEST_CASE("to_dtype carries the gradient back in the input's dtype") {
  Tensor x = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64);
  x.requires_grad_();
  Tensor y = ag::to_dtype(x, ag::DType::f32);
  CHECK(y.dtype() == ag::DType::f32);
  ag::sum(ag::mul(y, 2.0)).backward();
  CHECK(x.grad().dtype() == ag::DType::f64);
  CHECK(x.grad().to_vector() == std::vector<double>{2, 2, 2});
}

TEST_CASE("gradcheck: a composite expression over several ops and inputs") {
  ag::Generator gen(13);
  Tensor w = test::param({4, 3}, gen), b = test::param({3}, gen), x = test::param({5, 4}, gen);
  Tensor target = test::classes(5, 3, gen);
  auto f = [&](const Inputs& in) {
    return ag::cross_entropy(ag::scaled_tanh(ag::add(ag::matmul(in[2], in[0]), in[1])), target);
  };
  CHECK(ag::gradcheck(f, {w, b, x}));
}

TEST_CASE("gradcheck: linear, with and without bias, against its composed form") {
  // Both forward kernels: dot products of W's rows (5 samples), and W transposed (20 samples, 13 outputs,
  // which pad the last vector of outputs).
  ag::Generator gen(14);
  for (const Shape& sizes : {Shape{5, 4, 3}, Shape{20, 21, 13}}) {
    CAPTURE(ag::shape_str(sizes));
    Tensor x = test::param({sizes[0], sizes[1]}, gen), w = test::param({sizes[2], sizes[1]}, gen);
    Tensor b = test::param({sizes[2]}, gen);
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::linear(in[0], in[1], in[2]); }, {x, w, b}));
    CHECK(ag::gradcheck([](const Inputs& in) { return ag::linear(in[0], in[1], Tensor()); }, {x, w}));
    const auto fused = ag::linear(x, w, b).to_vector();
    const auto composed = ag::add(ag::matmul(x, ag::transpose(w, 0, 1)), b).to_vector();
    for (std::size_t i = 0; i < fused.size(); ++i) CHECK(fused[i] == doctest::Approx(composed[i]).epsilon(1e-14));
  }
}
