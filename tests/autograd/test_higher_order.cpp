// Higher-order gradients: gradients computed with create_graph are graph results that differentiate
// again, to any order; the values against closed forms (x^3, a quadratic form, e^2x), every elementwise,
// shape, reduction and loss op proven by gradgradcheck, hvp and the exact Hessian diagonal against
// their definitions, and the errors that say what is missing.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <cmath>
#include <string>

#include "support/random_inputs.h"

using ag::Shape;
using ag::Tensor;
using Inputs = std::vector<Tensor>;

namespace {

/// Returns dy/dx with its own graph (create_graph), for a y of one element.
Tensor derivative(const Tensor& y, const Tensor& x) { return ag::grad(y, {x}, Tensor(), false, true)[0]; }

}  // namespace

TEST_CASE("x^3: first, second and third derivatives, by backward and by ag::grad") {
  const std::vector<double> values{-1.5, 0.5, 2.0};
  Tensor x = ag::from_vector(values, {3}, ag::DType::f64).requires_grad_();
  const Tensor y = ag::sum(ag::mul(ag::mul(x, x), x));
  const Tensor dy = derivative(y, x);
  REQUIRE(dy.requires_grad());
  const Tensor d2y = derivative(ag::sum(dy), x);
  const Tensor d3y = derivative(ag::sum(d2y), x);
  for (std::size_t i = 0; i < values.size(); ++i) {
    CHECK(dy.to_vector()[i] == doctest::Approx(3 * values[i] * values[i]).epsilon(1e-15));
    CHECK(d2y.to_vector()[i] == doctest::Approx(6 * values[i]).epsilon(1e-15));
    CHECK(d3y.to_vector()[i] == doctest::Approx(6).epsilon(1e-15));
  }
  // backward with create_graph leaves a .grad that is itself differentiable: d/dx sum(dy/dx) = 6x.
  Tensor x2 = ag::from_vector(values, {3}, ag::DType::f64).requires_grad_();
  ag::sum(ag::pow(x2, 3.0)).backward(Tensor(), false, true);
  const Tensor first = x2.grad();
  REQUIRE(first.requires_grad());
  x2.zero_grad();
  ag::sum(first).backward();
  for (std::size_t i = 0; i < values.size(); ++i) CHECK(x2.grad().to_vector()[i] == doctest::Approx(6 * values[i]));
}

TEST_CASE("a quadratic form: the Hessian of x^T A x is A + A^T, and hvp gives (A + A^T) v exactly") {
  ag::Generator gen(31);
  const Tensor a = ag::uniform({4, 4}, -1, 1, gen, ag::DType::f64);
  Tensor x = ag::uniform({4, 1}, -1, 1, gen, ag::DType::f64).requires_grad_();
  const Tensor v = ag::uniform({4, 1}, -1, 1, gen, ag::DType::f64);
  const auto f = [&] { return ag::sum(ag::matmul(ag::transpose(x, 0, 1), ag::matmul(a, x))); };
  const Tensor hv = ag::hvp(f(), {x}, {v})[0];
  const auto av = ag::matmul(ag::add(a, ag::transpose(a, 0, 1)), v).to_vector();
  for (std::size_t i = 0; i < 4; ++i) CHECK(hv.to_vector()[i] == doctest::Approx(av[i]).epsilon(1e-14));
  const auto diagonal = ag::hessian_diagonal(f(), {x})[0].to_vector();
  for (std::int64_t i = 0; i < 4; ++i) CHECK(diagonal[static_cast<std::size_t>(i)] == doctest::Approx(2 * a.to_vector()[static_cast<std::size_t>(i * 5)]));
}

TEST_CASE("third order through exp, and a mixed second derivative across two inputs") {
  Tensor x = ag::from_vector({0.3, -0.7}, {2}, ag::DType::f64).requires_grad_();
  const Tensor y = ag::sum(ag::exp(ag::mul(x, 2.0)));
  const Tensor d3 = derivative(ag::sum(derivative(ag::sum(derivative(y, x)), x)), x);
  for (std::size_t i = 0; i < 2; ++i) CHECK(d3.to_vector()[i] == doctest::Approx(8 * std::exp(2 * x.to_vector()[i])));
  // d2(x y^2)/dx dy = 2y
  Tensor p = ag::from_vector({1.5}, {1}, ag::DType::f64).requires_grad_();
  Tensor q = ag::from_vector({-2.0}, {1}, ag::DType::f64).requires_grad_();
  const Tensor dp = derivative(ag::sum(ag::mul(p, ag::square(q))), p);
  CHECK(derivative(ag::sum(dp), q).item() == doctest::Approx(-4.0));
}

TEST_CASE("gradgradcheck: elementwise, activation, reduction, shape and matrix ops") {
  ag::Generator gen(32);
  const Tensor a = test::param({2, 3}, gen), b = test::param({3}, gen), positive = test::param({2, 3}, gen, 0.5, 2.0);
  const auto check = [](const ag::GradcheckFn& f, const Inputs& in, const char* name) {
    CAPTURE(name);
    CHECK(ag::gradgradcheck(f, in));
  };
  check([](const Inputs& in) { return ag::add(in[0], in[1]); }, {a, b}, "add");
  check([](const Inputs& in) { return ag::sub(in[0], in[1]); }, {a, b}, "sub");
  check([](const Inputs& in) { return ag::mul(in[0], in[1]); }, {a, b}, "mul");
  check([](const Inputs& in) { return ag::div(in[0], in[1]); }, {a, positive}, "div");
  check([](const Inputs& in) { return ag::neg(in[0]); }, {a}, "neg");
  check([](const Inputs& in) { return ag::mul(ag::add(in[0], 1.5), -2.0); }, {a}, "scalar add, mul");
  check([](const Inputs& in) { return 2.0 - in[0]; }, {a}, "rsub");
  check([](const Inputs& in) { return 2.0 / in[0]; }, {positive}, "rdiv");
  check([](const Inputs& in) { return ag::exp(in[0]); }, {a}, "exp");
  check([](const Inputs& in) { return ag::log(in[0]); }, {positive}, "log");
  check([](const Inputs& in) { return ag::pow(in[0], 3.0); }, {a}, "pow");
  check([](const Inputs& in) { return ag::pow(in[0], -1.5); }, {positive}, "pow negative");
  check([](const Inputs& in) { return ag::square(in[0]); }, {a}, "square");
  check([](const Inputs& in) { return ag::sqrt(in[0]); }, {positive}, "sqrt");
  check([](const Inputs& in) { return ag::tanh(in[0]); }, {a}, "tanh");
  check([](const Inputs& in) { return ag::scaled_tanh(in[0]); }, {a}, "scaled_tanh");
  check([](const Inputs& in) { return ag::sigmoid(in[0]); }, {a}, "sigmoid");
  check([](const Inputs& in) { return ag::relu(in[0]); }, {test::param_away_from_zero({2, 3}, gen)}, "relu");
  check([](const Inputs& in) { return ag::sum(ag::square(in[0])); }, {a}, "sum");
  check([](const Inputs& in) { return ag::mean(ag::square(in[0]), 1, true); }, {a}, "mean along a dimension");
  check([](const Inputs& in) { return ag::max(ag::square(in[0]), 0); }, {a}, "max along a dimension");
  check([](const Inputs& in) { return ag::transpose(ag::reshape(ag::square(in[0]), {3, 2}), 0, 1); }, {a},
        "reshape, transpose");
  check([](const Inputs& in) { return ag::sum_to(ag::expand(ag::square(in[0]), {2, 2, 3}), {1, 3}); }, {a},
        "expand, sum_to");
  check([](const Inputs& in) { return ag::matmul(in[0], in[1]); }, {a, test::param({3, 2}, gen)}, "matmul");
  check([](const Inputs& in) { return ag::log_softmax(in[0], 1); }, {a}, "log_softmax");
  check([](const Inputs& in) { return ag::logsumexp(in[0], 0); }, {a}, "logsumexp");
}

TEST_CASE("gradgradcheck: pick and the losses") {
  ag::Generator gen(33);
  const Tensor scores = test::param({4, 3}, gen, -2.0, 2.0), target = test::classes(4, 3, gen);
  const Tensor distances = test::param({4, 3}, gen, 0.0, 4.0);
  CHECK(ag::gradgradcheck([&](const Inputs& in) { return ag::pick(ag::square(in[0]), target); }, {scores}));
  CHECK(ag::gradgradcheck([&](const Inputs& in) { return ag::cross_entropy(in[0], target); }, {scores}));
  CHECK(ag::gradgradcheck([&](const Inputs& in) { return ag::rbf_mle_loss(in[0], target); }, {distances}));
  for (const double j : {0.1, 1.0, 10.0})
    CHECK(ag::gradgradcheck([&](const Inputs& in) { return ag::rbf_map_loss(in[0], target, j); }, {distances}));
  CHECK(ag::gradgradcheck([](const Inputs& in) { return ag::mse_loss(in[0], in[1]); },
                          {test::param({2, 3}, gen), test::param({2, 3}, gen)}));
}

TEST_CASE("gradgradcheck catches a differentiable rule that is right in value and wrong in its graph") {
  // y = x^2 whose recorded rule reads x cut from the graph: dL/dx = 2 g x has the right value, so gradcheck
  // passes, but it no longer depends on x, so the second derivative is lost; gradgradcheck must say so.
  const auto detached_square = [](const Tensor& x) {
    const ag::BackwardFn rule = [](const Tensor& g, const std::vector<Tensor>& in) {
      return std::vector<Tensor>{ag::mul(ag::mul(g, in[0].detach()), 2.0)};
    };
    return ag::record("detached_square", ag::square(x.detach()), {x}, ag::composed(rule));
  };
  Tensor x = ag::from_vector({0.5, 2.0}, {2}, ag::DType::f64).requires_grad_();
  const auto f = [&](const Inputs& in) { return detached_square(in[0]); };
  CHECK(ag::gradcheck(f, {x}));
  const ag::GradcheckResult result = ag::gradgradcheck(f, {x});
  CHECK_FALSE(result);
  CHECK(result.message.find("gradgradcheck: gradcheck of the gradient of detached_square for input 0") != std::string::npos);
  CHECK(ag::gradgradcheck([](const Inputs& in) { return ag::square(in[0]); }, {x}));  // the engine's own square
}

TEST_CASE("create_graph through an op without a differentiable rule is refused by name") {
  const auto custom = [](const Tensor& x) {
    Tensor out = ag::mul(x.detach(), 3.0);
    return ag::record("triple", out, {x}, [](const Tensor& g, const std::vector<Tensor>&) {
      return std::vector<Tensor>{ag::mul(g, 3.0)};
    });
  };
  Tensor x = ag::from_vector({1.0, 2.0}, {2}, ag::DType::f64).requires_grad_();
  CHECK(ag::grad(ag::sum(custom(x)), {x})[0].to_vector() == std::vector<double>{3, 3});  // a plain pass works
  CHECK_THROWS_WITH_AS(ag::grad(ag::sum(custom(x)), {x}, Tensor(), false, true),
                       doctest::Contains("triple: its backward rule is not differentiable yet"), ag::Error);
  // Differentiating a gradient computed without create_graph says how to get one that can be.
  const Tensor first = ag::grad(ag::sum(ag::square(x)), {x})[0];
  CHECK_THROWS_WITH_AS(ag::sum(first).backward(), doctest::Contains("create_graph = true"), ag::Error);
}

TEST_CASE("hvp and hessian_diagonal: arguments are checked") {
  Tensor x = ag::from_vector({1.0, 2.0}, {2}, ag::DType::f64).requires_grad_();
  CHECK_THROWS_WITH_AS(ag::hvp(ag::square(x), {x}, {x}), doctest::Contains("one-element output"), ag::Error);
  CHECK_THROWS_WITH_AS(ag::hvp(ag::sum(ag::square(x)), {x}, {}), doctest::Contains("0 vectors for 1 inputs"), ag::Error);
  CHECK_THROWS_WITH_AS(ag::hvp(ag::sum(ag::square(x)), {x}, {ag::zeros({3}, ag::DType::f64)}),
                       doctest::Contains("vector 0 is [3] but input 0 is [2]"), ag::Error);
  // A linear function: its Hessian is zero, and so is every Hessian-vector product.
  CHECK(ag::hvp(ag::sum(ag::mul(x, 2.0)), {x}, {ag::ones({2}, ag::DType::f64)})[0].to_vector() ==
        std::vector<double>{0, 0});
  CHECK(ag::hessian_diagonal(ag::sum(ag::pow(x, 3.0)), {x})[0].to_vector() == std::vector<double>{6, 12});
}

TEST_CASE("a create_graph pass checks the versions of every input its recorded rule recomputes from") {
  // tanh's plain rule reads only its output, so a written input does not matter to it; its recorded rule
  // recomputes tanh from the input, so a create_graph pass refuses the written input.
  Tensor x = ag::from_vector({0.1, 0.2}, {2}, ag::DType::f64).requires_grad_();
  Tensor h = ag::mul(x, 1.0);
  const Tensor y = ag::sum(ag::tanh(h));
  {
    const ag::NoGradGuard no_grad;
    h.mutable_data<double>()[0] = 5.0;
  }
  CHECK_THROWS_WITH_AS(ag::grad(y, {x}, Tensor(), true, true), doctest::Contains("tanh: input 0 [2] was written in place"),
                       ag::Error);
  CHECK(ag::grad(y, {x})[0].defined());
}

TEST_CASE("gradgradcheck: slicing, indexing, joining, permute and softmax") {
  ag::Generator gen(34);
  const Tensor x = test::param({3, 4}, gen), y = test::param({2, 4}, gen);
  const Tensor index = ag::from_vector({2, 0, 2}, {3}, ag::DType::i64);
  const Tensor aligned = ag::from_vector({1, 0, 3, 3, 2, 1, 0, 0, 1, 2, 2, 3}, {3, 4}, ag::DType::i64);
  const auto check = [](const ag::GradcheckFn& f, const Inputs& in, const char* name) {
    CAPTURE(name);
    CHECK(ag::gradgradcheck(f, in));
  };
  // Each op's input squared first, so that its second derivative is not zero.
  check([](const Inputs& in) { return ag::slice(ag::square(in[0]), 1, 1, 4, 2); }, {x}, "slice");
  check([](const Inputs& in) { return ag::narrow(ag::square(in[0]), 0, 1, 2); }, {x}, "narrow");
  check([](const Inputs& in) { return ag::select(ag::square(in[0]), 1, 3); }, {x}, "select");
  check([](const Inputs& in) { return ag::unslice(ag::square(in[0]), {3, 8}, 1, 0, 8, 2); }, {x}, "unslice");
  check([&](const Inputs& in) { return ag::index_select(ag::square(in[0]), 0, index); }, {x}, "index_select");
  check([&](const Inputs& in) { return ag::index_add(ag::square(in[0]), 0, index, ag::square(in[1])); },
        {x, test::param({3, 4}, gen)}, "index_add");
  check([&](const Inputs& in) { return ag::gather(ag::square(in[0]), 0, aligned.detach()); },
        {test::param({4, 4}, gen)}, "gather");
  check([&](const Inputs& in) { return ag::scatter_add(ag::square(in[0]), 0, aligned, ag::square(in[1])); },
        {test::param({4, 4}, gen), test::param({3, 4}, gen)}, "scatter_add");
  check([](const Inputs& in) { return ag::cat({ag::square(in[0]), in[1]}, 0); }, {x, y}, "cat");
  check([](const Inputs& in) { return ag::stack({ag::square(in[0]), in[0]}, 1); }, {x}, "stack");
  check([](const Inputs& in) { return ag::permute(ag::square(in[0]), {1, 0}); }, {x}, "permute");
  check([](const Inputs& in) { return ag::softmax(in[0], 1); }, {x}, "softmax");
}

TEST_CASE("gradgradcheck over random shapes: broadcasting arithmetic, activations, reductions, matmul") {
  ag::Generator gen(35);
  for (int trial = 0; trial < 4; ++trial) {
    CAPTURE(trial);
    const Shape shape = test::random_shape(1 + gen.below(3), gen);
    Shape row = shape;  // the same rank, each dimension kept or broadcast from 1
    for (auto& d : row)
      if (gen.uniform() < 0.5) d = 1;
    CAPTURE(ag::shape_str(shape));
    CAPTURE(ag::shape_str(row));
    const Tensor a = test::param(shape, gen), b = test::param(row, gen), positive = test::param(row, gen, 0.5, 2.0);
    const auto check = [](const ag::GradcheckFn& f, const Inputs& in, const char* name) {
      CAPTURE(name);
      CHECK(ag::gradgradcheck(f, in));
    };
    check([](const Inputs& in) { return ag::mul(ag::add(in[0], in[1]), in[1]); }, {a, b}, "add, mul");
    check([](const Inputs& in) { return ag::div(ag::sub(in[0], in[1]), in[1]); }, {a, positive}, "sub, div");
    check([](const Inputs& in) { return ag::scaled_tanh(ag::mul(in[0], in[1])); }, {a, b}, "scaled_tanh");
    check([](const Inputs& in) { return ag::sigmoid(ag::exp(in[0])); }, {a}, "sigmoid, exp");
    const std::int64_t dim = static_cast<std::int64_t>(gen.below(shape.size()));
    check([dim](const Inputs& in) { return ag::mean(ag::tanh(in[0]), dim, true); }, {a}, "mean along a dimension");
    check([dim](const Inputs& in) { return ag::logsumexp(in[0], dim); }, {a}, "logsumexp");
    const auto size = [&](std::uint64_t most) { return static_cast<std::int64_t>(1 + gen.below(most)); };
    const std::int64_t m = size(3), k = size(4), n = size(3);
    check([](const Inputs& in) { return ag::matmul(in[0], ag::square(in[1])); },
          {test::param({m, k}, gen), test::param({k, n}, gen)}, "matmul");
  }
}
