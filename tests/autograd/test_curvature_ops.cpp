// The curvature rules of the ops outside LeNet-5 (elementwise maps, division, matmul, the softmax family, the
// routing ops, conv2d's gradient ops), each in isolation in float64: with a random positive diagonal D upstream,
// the propagated diagonal equals diag(J^T diag(D) J) from the op's explicit Jacobian.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <cmath>

#include "autograd/curvature_support.h"
#include "support/random_inputs.h"

using curvature_test::check_against_jacobian;
using curvature_test::Inputs;
using curvature_test::relative_difference;

namespace {

/// Returns an int64 tensor of `shape` holding `values`.
ag::Tensor indices(const std::vector<std::int64_t>& values, const ag::Shape& shape) {
  return ag::from_indices(values, shape);
}

}  // namespace

TEST_CASE("curvature of the elementwise maps is f'(x)^2 D") {
  ag::Generator gen(31);
  const Inputs any{test::param({2, 3, 4}, gen)};
  const Inputs positive{test::param({2, 3, 4}, gen, 0.5, 2.0)};
  check_against_jacobian([](const Inputs& in) { return ag::exp(in[0]); }, any);
  check_against_jacobian([](const Inputs& in) { return ag::square(in[0]); }, any);
  check_against_jacobian([](const Inputs& in) { return ag::pow(in[0], 3.0); }, any);
  check_against_jacobian([](const Inputs& in) { return ag::log(in[0]); }, positive);
  check_against_jacobian([](const Inputs& in) { return ag::sqrt(in[0]); }, positive);
  check_against_jacobian([](const Inputs& in) { return ag::pow(in[0], 2.5); }, positive);
  check_against_jacobian([](const Inputs& in) { return ag::rdiv(2.0, in[0]); }, positive);
  // unary_op's rule, for ops written with it: softsign, f' = 1 / (1 + |x|)^2.
  check_against_jacobian([](const Inputs& in) {
    return ag::unary_op("softsign", in[0], [](auto v) { return v / (1 + std::abs(v)); },
                        [](auto v) { return 1 / ((1 + std::abs(v)) * (1 + std::abs(v))); });
  }, any);
}

TEST_CASE("curvature of div, with broadcasting either way") {
  ag::Generator gen(32);
  const Inputs same{test::param({3, 4}, gen), test::param({3, 4}, gen, 0.5, 2.0)};
  check_against_jacobian([](const Inputs& in) { return ag::div(in[0], in[1]); }, same);
  const Inputs column{test::param({3, 4}, gen), test::param({3, 1}, gen, 0.5, 2.0)};
  check_against_jacobian([](const Inputs& in) { return ag::div(in[0], in[1]); }, column);
  const Inputs row{test::param({1, 4}, gen), test::param({2, 3, 4}, gen, 0.5, 2.0)};
  check_against_jacobian([](const Inputs& in) { return ag::div(in[0], in[1]); }, row);
}

TEST_CASE("curvature of matmul: plain, batched and with broadcast batch dimensions") {
  ag::Generator gen(33);
  const auto op = [](const Inputs& in) { return ag::matmul(in[0], in[1]); };
  check_against_jacobian(op, {test::param({3, 4}, gen), test::param({4, 5}, gen)});
  check_against_jacobian(op, {test::param({2, 3, 4}, gen), test::param({2, 4, 2}, gen)});
  check_against_jacobian(op, {test::param({3, 4}, gen), test::param({2, 4, 2}, gen)});
  check_against_jacobian(op, {test::param({2, 1, 2, 3}, gen), test::param({3, 3, 2}, gen)});
}

TEST_CASE("curvature of softmax, log_softmax and logsumexp along each dimension") {
  ag::Generator gen(34);
  const Inputs x{test::param({3, 4, 5}, gen, -2.0, 2.0)};
  for (const std::int64_t dim : {0, 1, 2, -1}) {
    CAPTURE(dim);
    check_against_jacobian([dim](const Inputs& in) { return ag::softmax(in[0], dim); }, x);
    check_against_jacobian([dim](const Inputs& in) { return ag::log_softmax(in[0], dim); }, x);
    check_against_jacobian([dim](const Inputs& in) { return ag::logsumexp(in[0], dim); }, x);
    check_against_jacobian([dim](const Inputs& in) { return ag::logsumexp(in[0], dim, true); }, x);
  }
}

TEST_CASE("curvature of cat, stack and the slices routes D as the gradient") {
  ag::Generator gen(35);
  const Inputs three{test::param({2, 3, 2}, gen), test::param({2, 1, 2}, gen), test::param({2, 4, 2}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::cat(in, 1); }, three);
  const Inputs same{test::param({2, 3}, gen), test::param({2, 3}, gen), test::param({2, 3}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::stack(in, 0); }, same);
  check_against_jacobian([](const Inputs& in) { return ag::stack(in, 2); }, same);
  const Inputs x{test::param({3, 7, 2}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::slice(in[0], 1, 1, 7, 2); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::narrow(in[0], 0, 1, 2); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::select(in[0], 1, -2); }, x);
  const Inputs src{test::param({3, 2, 2}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::unslice(in[0], {3, 7, 2}, 1, 1, 7, 3); }, src);
  const Inputs image{test::param({2, 3, 2, 3}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::upsample_nearest(in[0], 2); }, image);
}

TEST_CASE("curvature of the indexing ops sums D over repeated indices, as J^T D J does") {
  ag::Generator gen(36);
  const ag::Tensor repeated = indices({2, 0, 2, 2, 1}, {5});
  const Inputs x{test::param({3, 4}, gen)};
  check_against_jacobian([&](const Inputs& in) { return ag::index_select(in[0], 0, repeated); }, x);
  check_against_jacobian([&](const Inputs& in) { return ag::index_select(in[0], 1, indices({3, 3, 0}, {3})); }, x);
  const Inputs add_in{test::param({3, 2}, gen), test::param({5, 2}, gen)};
  check_against_jacobian([&](const Inputs& in) { return ag::index_add(in[0], 0, repeated, in[1]); }, add_in);
  const ag::Tensor aligned = indices({0, 0, 2, 1, 3, 3, 3, 0}, {2, 4});
  check_against_jacobian([&](const Inputs& in) { return ag::gather(in[0], 1, aligned); }, x);
  const Inputs scatter_in{test::param({3, 4}, gen), test::param({2, 4}, gen)};
  check_against_jacobian([&](const Inputs& in) { return ag::scatter_add(in[0], 1, aligned, in[1]); }, scatter_in);
}

TEST_CASE("curvature of max along a dimension routes D to the first maximum") {
  ag::Generator gen(37);
  const Inputs x{test::param({3, 4, 2}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::max(in[0], 1); }, x);
  check_against_jacobian([](const Inputs& in) { return ag::max(in[0], 0, true); }, x);
}

// The flat gather and scatter appear in the graphs of recorded gradients: max's gradient with respect to x
// is a scatter of its upstream c, and that scatter's gradient with respect to c a gather of its upstream u. The
// harness also runs the op under a NoGradGuard (for D's shape), where these gradients must still be taken.
TEST_CASE("curvature of the flat scatter and gather inside a recorded gradient") {
  ag::Generator gen(38);
  const ag::Tensor x = test::param({3, 4}, gen), c = test::param({3}, gen);
  const auto scatter = [&x](const Inputs& in) {
    const ag::EnableGradGuard on;
    return ag::grad(ag::max(x, 1), {x}, in[0], true, true)[0];
  };
  check_against_jacobian(scatter, {test::param({3}, gen)});
  const auto gather = [&](const Inputs& in) {
    const ag::EnableGradGuard on;
    return ag::grad(scatter({c}), {c}, in[0], true, true)[0];
  };
  check_against_jacobian(gather, {test::param({3, 4}, gen)});
}

TEST_CASE("curvature of to_dtype is D converted back") {
  ag::Generator gen(39);
  const ag::Tensor x = ag::to_dtype(test::param({2, 3}, gen), ag::DType::f32).detach().requires_grad_();
  const ag::Tensor d = ag::uniform({2, 3}, 0.1, 1.0, gen, ag::DType::f64);
  const Inputs pass =
      curvature_test::pass_diagonal([](const Inputs& in) { return ag::to_dtype(in[0], ag::DType::f64); }, {x}, d);
  CHECK(pass[0].dtype() == ag::DType::f32);
  // J = I: D_x is D rounded to float32 (the pass builds D as (sqrt(D K / 2))^2 2 / K, exact to a float64 ulp).
  CHECK(relative_difference(ag::to_dtype(pass[0], ag::DType::f64), ag::to_dtype(ag::to_dtype(d, ag::DType::f32),
                                                                                ag::DType::f64)) < 1e-7);
}

TEST_CASE("curvature of conv2d's gradient ops, strided and padded, with a connection table") {
  ag::Generator gen(40);
  ag::Conv2dOptions options;
  options.stride = 2;
  options.padding = 1;
  const ag::Shape x_shape{2, 2, 5, 5}, w_shape{3, 2, 3, 3};
  for (const bool table : {false, true}) {
    CAPTURE(table);
    if (table) options.table = ag::ConnectionTable(3, 2, {1, 0, 0, 1, 1, 1});
    const Inputs gw{test::param({2, 3, 3, 3}, gen), test::param(w_shape, gen)};
    check_against_jacobian([&](const Inputs& in) { return ag::conv2d_input_gradient(in[0], in[1], x_shape, options); },
                           gw);
    const Inputs xg{test::param(x_shape, gen), test::param({2, 3, 3, 3}, gen)};
    check_against_jacobian([&](const Inputs& in) { return ag::conv2d_weight_gradient(in[0], in[1], w_shape, options); },
                           xg);
  }
}
