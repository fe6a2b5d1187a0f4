// The curvature rules of conv2d (with LeNet-5's C3 connection table and fused activations) and subsample, float64:
// against diag(J^T diag(D) J) from the explicit Jacobian, and against the hand-derived sums over shared
// connections of the paper's Appendix C: d2E/dw_k^2 = sum over the connections (i, j) using w_k of
// x_j^2 d2E/da_i^2.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <models/connection_table.h>

#include "autograd/curvature_support.h"
#include "support/random_inputs.h"

using curvature_test::check_against_jacobian;
using curvature_test::Inputs;
using curvature_test::relative_difference;

TEST_CASE("conv2d's curvature equals J^T D J: plain, strided and padded, with C3's table, with activations") {
  ag::Generator gen(21);
  const Inputs small{test::param({2, 2, 5, 5}, gen), test::param({3, 2, 3, 3}, gen), test::param({3}, gen)};
  check_against_jacobian([](const Inputs& in) { return ag::conv2d(in[0], in[1], in[2]); }, small);
  const ag::Conv2dOptions strided{.stride = 2, .padding = 1};
  check_against_jacobian([&](const Inputs& in) { return ag::conv2d(in[0], in[1], in[2], strided); }, small);
  for (const auto activation : {ag::Activation::scaled_tanh, ag::Activation::relu}) {
    const ag::Conv2dOptions fused{.activation = activation};
    check_against_jacobian([&](const Inputs& in) { return ag::conv2d(in[0], in[1], in[2], fused); }, small);
  }
  const Inputs c3{test::param({1, 6, 5, 5}, gen), test::param({16, 6, 3, 3}, gen), test::param({16}, gen)};
  const ag::Conv2dOptions table{.table = ag::models::lenet5_c3_table(), .activation = ag::Activation::scaled_tanh};
  check_against_jacobian([&](const Inputs& in) { return ag::conv2d(in[0], in[1], in[2], table); }, c3);
}

TEST_CASE("conv2d's curvature equals the hand-derived sum over shared connections, 0 where C3 connects nothing") {
  ag::Generator gen(22);
  const ag::Tensor x = test::param({2, 6, 6, 6}, gen), w = test::param({16, 6, 3, 3}, gen), b = test::param({16}, gen);
  const ag::ConnectionTable table = ag::models::lenet5_c3_table();
  const ag::Conv2dOptions options{.table = table};
  const ag::Tensor y = ag::conv2d(x, w, b, options);
  ag::Generator dgen(23);
  const ag::Tensor d = ag::uniform(y.shape(), 0.1, 1.0, dgen, ag::DType::f64);
  const Inputs pass = curvature_test::pass_diagonal([&](const Inputs& in) { return ag::conv2d(in[0], in[1], in[2], options); },
                                                    {x, w, b}, d);
  // d2E/dw[o,c,p,q]^2 = sum over n, i, j of x[n,c,i+p,j+q]^2 d2E/da[n,o,i,j]^2 for connected (o, c); d2E/db[o]^2 =
  // sum of d2E/da[n,o,i,j]^2.
  std::vector<double> weight(static_cast<std::size_t>(w.numel()), 0.0), bias(16, 0.0);
  const auto xv = x.to_vector(), dv = d.to_vector();
  for (std::int64_t n = 0; n < 2; ++n)
    for (std::int64_t o = 0; o < 16; ++o)
      for (std::int64_t i = 0; i < 4; ++i)
        for (std::int64_t j = 0; j < 4; ++j) {
          const double da = dv[static_cast<std::size_t>(((n * 16 + o) * 4 + i) * 4 + j)];
          bias[static_cast<std::size_t>(o)] += da;
          for (std::int64_t c = 0; c < 6; ++c) {
            if (!table.connected(o, c)) continue;
            for (std::int64_t p = 0; p < 3; ++p)
              for (std::int64_t q = 0; q < 3; ++q) {
                const double xj = xv[static_cast<std::size_t>(((n * 6 + c) * 6 + i + p) * 6 + j + q)];
                weight[static_cast<std::size_t>(((o * 6 + c) * 3 + p) * 3 + q)] += xj * xj * da;
              }
          }
        }
  CHECK(relative_difference(pass[1], ag::from_vector(weight, w.shape(), ag::DType::f64)) < 1e-12);
  CHECK(relative_difference(pass[2], ag::from_vector(bias, b.shape(), ag::DType::f64)) < 1e-12);
}

TEST_CASE("subsample's curvature equals J^T D J and the hand-derived sums, with and without its squashing") {
  ag::Generator gen(24);
  const Inputs in{test::param({2, 3, 4, 6}, gen), test::param({3}, gen), test::param({3}, gen)};
  for (const auto activation : {ag::Activation::none, ag::Activation::scaled_tanh, ag::Activation::sigmoid}) {
    CAPTURE(ag::activation_name(activation));
    check_against_jacobian([activation](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], 2, activation); },
                           in);
  }
  // a[n,c,i,j] = coeff[c] s[n,c,i,j] + bias[c], s the 2x2 window's sum: the coefficient's one input per
  // connection is s, so d2E/dcoeff[c]^2 = sum of s^2 d2E/da^2, and each x gets coeff[c]^2 d2E/da^2 of its window.
  const auto layer = [](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], 2); };
  const ag::Tensor y = layer(in);
  ag::Generator dgen(25);
  const ag::Tensor d = ag::uniform(y.shape(), 0.1, 1.0, dgen, ag::DType::f64);
  const Inputs pass = curvature_test::pass_diagonal(layer, in, d);
  const auto xv = in[0].to_vector(), cv = in[1].to_vector(), dv = d.to_vector();
  std::vector<double> coeff(3, 0.0), x(xv.size(), 0.0);
  for (std::int64_t n = 0; n < 2; ++n)
    for (std::int64_t c = 0; c < 3; ++c)
      for (std::int64_t i = 0; i < 2; ++i)
        for (std::int64_t j = 0; j < 3; ++j) {
          const double da = dv[static_cast<std::size_t>(((n * 3 + c) * 2 + i) * 3 + j)];
          double s = 0;
          for (std::int64_t p = 0; p < 2; ++p)
            for (std::int64_t q = 0; q < 2; ++q) {
              const auto at = static_cast<std::size_t>(((n * 3 + c) * 4 + 2 * i + p) * 6 + 2 * j + q);
              s += xv[at];
              x[at] = cv[static_cast<std::size_t>(c)] * cv[static_cast<std::size_t>(c)] * da;
            }
          coeff[static_cast<std::size_t>(c)] += s * s * da;
        }
  CHECK(relative_difference(pass[0], ag::from_vector(x, in[0].shape(), ag::DType::f64)) < 1e-12);
  CHECK(relative_difference(pass[1], ag::from_vector(coeff, {3}, ag::DType::f64)) < 1e-12);
}
