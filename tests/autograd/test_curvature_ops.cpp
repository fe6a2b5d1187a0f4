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
