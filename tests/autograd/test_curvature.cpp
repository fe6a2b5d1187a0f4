// The curvature rules (Rules::curvature, ag::backward_curvature), each op in isolation in float64: with a
// random positive diagonal D upstream, the propagated diagonal equals diag(J^T diag(D) J) from the op's explicit
// Jacobian; the losses' rules equal the exact diagonal of their Hessian; an op without a rule is refused by name.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include "autograd/curvature_support.h"
#include "support/random_inputs.h"

using curvature_test::check_against_jacobian;
using curvature_test::Inputs;
using curvature_test::relative_difference;

TEST_CASE("curvature of the activations is f'(x)^2 D") {
  ag::Generator gen(11);
  const Inputs x{test::param_away_from_zero({2, 3, 4}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::relu(in[0]); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::tanh(in[0]); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::scaled_tanh(in[0]); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::sigmoid(in[0]); }, x);
}

TEST_CASE("curvature of the elementwise arithmetic, reshape and the sums") {
  ag::Generator gen(12);
  const Inputs ab{test::param({3, 4}, gen), test::param({3, 4}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::add(in[0], in[1]); }, ab);
  check_against_jacobian([](const Inputs& in) { return ag::sub(in[0], in[1]); }, ab);
  check_against_jacobian([](const Inputs& in) { return ag::mul(in[0], in[1]); }, ab);
  const Inputs broadcast{test::param({3, 4}, gen), test::param({1, 4}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::mul(in[0], in[1]); }, broadcast);
  check_against_jacobian([](const Inputs& in) { return ag::sub(in[0], in[1]); }, broadcast);
  const Inputs x{test::param({2, 3, 2}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::neg(in[0]); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::mul(in[0], -1.5); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::add(in[0], 0.5); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::rsub(2.0, in[0]); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::reshape(in[0], {3, 4}); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::flatten(in[0]); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::transpose(in[0], 0, 2); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::permute(in[0], {1, 2, 0}); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::reshape(ag::sum(in[0]), {1}); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::sum(in[0], 1); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::reshape(ag::mean(in[0]), {1}); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::mean(in[0], 2); }, x);
}

TEST_CASE("curvature of linear, with and without a fused activation") {
  ag::Generator gen(13);
  const Inputs in{test::param({3, 5}, gen), test::param({4, 5}, gen), test::param({4}, gen)};
  for (const auto activation : {ag::Activation::none, ag::Activation::scaled_tanh, ag::Activation::relu,
                                ag::Activation::sigmoid}) {
    CAPTURE(ag::activation_name(activation));
    check_against_jacobian([activation](const Inputs& v) { return ag::linear(v[0], v[1], v[2], activation); }, in);
  }
  const Inputs no_bias{test::param({2, 3}, gen), test::param({2, 3}, gen)};
  check_against_jacobian([](const Inputs& v) { return ag::linear(v[0], v[1], ag::Tensor()); }, no_bias);
}

TEST_CASE("curvature of max_pool2d routes D to the maxima, with and without relu") {
  ag::Generator gen(14);
  const Inputs x{test::param_away_from_zero({2, 2, 4, 6}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::max_pool2d(in[0], 2); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::max_pool2d(in[0], 2, 2, ag::Activation::relu); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::max_pool2d(in[0], 3, 1); }, x);  // overlapping windows
}

TEST_CASE("curvature of rbf: Gauss-Newton's 4 (x - w)^2 D plus its own exact second derivative 2 dL/dy") {
  ag::Generator gen(15);
  ag::Tensor x = test::param({3, 4}, gen);
  const ag::Tensor centres = test::param({5, 4}, gen);
  const ag::Tensor target = test::classes(3, 5, gen);
  const auto loss = [&] { return ag::rbf_map_loss(ag::rbf(x, centres), target, 0.5); };
  const ag::CurvatureResult pass = ag::backward_curvature(loss(), {x, centres});
  // With respect to x, the RBF's Hessian is 2 I per unit (exactly diagonal), and the MAP loss's Hessian off its
  // diagonal is dropped: compare with the Gauss-Newton diagonal built from the explicit Jacobian plus 2 sum_i G.
  const ag::Tensor y = ag::rbf(x, centres);
  const ag::Tensor g = ag::grad(ag::rbf_map_loss(y, target, 0.5), {y}, ag::Tensor(), true)[0];
  ag::Tensor yy = y.detach();
  yy.requires_grad_();
  const ag::Tensor d = ag::hessian_diagonal(ag::rbf_map_loss(yy, target, 0.5), {yy})[0];
  const Inputs exact = curvature_test::exact_gauss_newton_diagonal(
      [&](const Inputs& v) { return ag::rbf(v[0], v[1]); }, {x, centres}, d);
  const ag::Tensor two_g_x = ag::expand(ag::mul(ag::sum(g, 1, true), 2.0), x.shape());
  const ag::Tensor two_g_w = ag::expand(ag::reshape(ag::mul(ag::sum(g, 0), 2.0), {5, 1}), centres.shape());
  CHECK(relative_difference(pass.diagonals[0], ag::add(exact[0], two_g_x)) < 1e-10);
  CHECK(relative_difference(pass.diagonals[1], ag::add(exact[1], two_g_w)) < 1e-10);
  // With the MLE loss (linear in y) the diagonal with respect to x is the exact Hessian diagonal, 2/N.
  const ag::CurvatureResult mle = ag::backward_curvature(ag::rbf_mle_loss(ag::rbf(x, centres), target), {x});
  CHECK(relative_difference(mle.diagonals[0], ag::full(x.shape(), 2.0 / 3, ag::DType::f64)) < 1e-12);
}

TEST_CASE("the losses seed the pass with the exact diagonal of their Hessian") {
  ag::Generator gen(16);
  const ag::Tensor scores = test::param({3, 5}, gen);
  const ag::Tensor target = test::classes(3, 5, gen);
  const ag::Tensor goal = test::param({3, 5}, gen);
  const std::vector<std::function<ag::Tensor()>> losses{
      [&] { return ag::cross_entropy(scores, target); }, [&] { return ag::rbf_map_loss(scores, target, 0.3); },
      [&] { return ag::rbf_mle_loss(scores, target); }, [&] { return ag::mse_loss(scores, goal); }};
  for (std::size_t k = 0; k < losses.size(); ++k) {
    CAPTURE(k);
    const ag::Tensor exact = ag::hessian_diagonal(losses[k](), {scores})[0];
    const ag::CurvatureResult pass = ag::backward_curvature(losses[k](), {scores});
    CHECK(relative_difference(pass.diagonals[0], exact) < 1e-12);
    CHECK(relative_difference(pass.gradients[0], ag::grad(losses[k](), {scores})[0]) == 0);
  }
  // A loss used further on (scaled, summed) gets dL/dE H + D_E (dE/dx)^2: here D_E = 0 and dL/dE = 3.
  const ag::Tensor exact = ag::hessian_diagonal(ag::mul(ag::cross_entropy(scores, target), 3.0), {scores})[0];
  const ag::CurvatureResult pass = ag::backward_curvature(ag::mul(ag::cross_entropy(scores, target), 3.0), {scores});
  CHECK(relative_difference(pass.diagonals[0], exact) < 1e-12);
}

TEST_CASE("mse_loss, now one node, gives the composed ops' value and gradients to the bit") {
  ag::Generator gen(19);
  const ag::Tensor p = test::param({4, 3}, gen), t = test::param({4, 3}, gen);
  const ag::Tensor fused = ag::mse_loss(p, t), composed = ag::mean(ag::square(ag::sub(p, t)));
  CHECK(fused.item() == composed.item());
  const Inputs g_fused = ag::grad(fused, {p, t}), g_composed = ag::grad(composed, {p, t});
  CHECK(relative_difference(g_fused[0], g_composed[0]) == 0);
  CHECK(relative_difference(g_fused[1], g_composed[1]) == 0);
}

TEST_CASE("backward_curvature refuses an op without a curvature rule by name, and a loss of several elements") {
  ag::Generator gen(17);
  const ag::Tensor x = test::param({2, 3}, gen);
  // Every engine op has a rule; an op recorded with a backward rule alone has none.
  const ag::Tensor y = ag::record("no_curvature", x.detach().clone(), {x}, [](const ag::Tensor& g, const Inputs&) {
    return Inputs{g};
  });
  CHECK_THROWS_WITH_AS(ag::backward_curvature(ag::sum(y), {x}), doctest::Contains("no_curvature: has no curvature rule"),
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::backward_curvature(ag::exp(x), {x}), doctest::Contains("one-element loss"), ag::Error);
}

// A curvature rule may read any input (linear's reads x and W squared), so every input is checked, as a
// create_graph pass checks them: here tanh, whose plain rule reads only its output, is refused too.
TEST_CASE("backward_curvature refuses an op whose input was written in place since") {
  ag::Tensor w = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64).requires_grad_();
  ag::Tensor x;
  {
    const ag::NoGradGuard off;
    x = ag::mul(w, 1.0);
  }
  x.requires_grad_();
  const ag::Tensor loss = ag::mse_loss(ag::tanh(x), ag::zeros({3}, ag::DType::f64));
  {
    const ag::NoGradGuard off;
    x.set({0}, 5);
  }
  CHECK_THROWS_WITH_AS(ag::backward_curvature(loss, {x}), doctest::Contains("tanh: input 0 [3] was written in place"),
                       ag::Error);
}

TEST_CASE("backward never runs a curvature rule: its gradients are unchanged by the pass beside it") {
  ag::Generator gen(18);
  const ag::Tensor x = test::param({3, 4}, gen), w = test::param({2, 4}, gen);
  const ag::Tensor target = test::classes(3, 2, gen);
  const auto loss = [&] { return ag::cross_entropy(ag::linear(x, w, ag::Tensor(), ag::Activation::tanh), target); };
  const ag::Tensor plain = ag::grad(loss(), {w})[0];
  CHECK(relative_difference(ag::backward_curvature(loss(), {w}).gradients[0], plain) == 0);
}
