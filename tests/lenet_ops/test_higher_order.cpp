// LeNet-5's ops differentiated twice: gradgradcheck (central differences of the gradient computed with
// create_graph) over conv2d and its two gradient ops, sub-sampling and upsampling, max-pooling, linear and
// the RBF units, with and without their fused activations.
#include <autograd/autograd.h>
#include <doctest/doctest.h>
#include <models/connection_table.h>

#include "lenet_ops/lenet_ops_support.h"

using namespace lenet_test;

TEST_CASE("gradgradcheck: conv2d over strides, paddings, a table and a fused activation") {
  ag::Generator gen(51);
  const Tensor x = test::param({2, 2, 5, 5}, gen), w = test::param({3, 2, 3, 3}, gen), b = test::param({3}, gen);
  ag::Conv2dOptions plain, strided, squashed;
  strided.stride = 2;
  strided.padding = 1;
  squashed.activation = ag::Activation::scaled_tanh;
  for (const auto* options : {&plain, &strided, &squashed}) {
    CAPTURE(options->stride);
    CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], *options); }, {x, w, b}));
  }
  ag::Conv2dOptions table;
  table.table = ag::ConnectionTable(3, 2, {1, 0, 0, 1, 1, 1});
  table.activation = ag::Activation::tanh;
  CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], table); }, {x, w, b}));
  SUBCASE("LeNet's C3 table, in fast mode") {
    ag::GradcheckOptions fast;
    fast.fast_mode = true;
    ag::Conv2dOptions c3;
    c3.table = ag::models::lenet5_c3_table();
    c3.activation = ag::Activation::scaled_tanh;
    const Tensor x3 = test::param({1, 6, 6, 6}, gen), w3 = test::param({16, 6, 5, 5}, gen);
    CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::conv2d(v[0], v[1], Tensor(), c3); }, {x3, w3}, fast));
  }
}

TEST_CASE("gradgradcheck: conv2d_input_gradient and conv2d_weight_gradient, which conv2d's rule is made of") {
  ag::Generator gen(52);
  ag::Conv2dOptions options;
  options.stride = 2;
  options.padding = 1;
  const Tensor x = test::param({2, 2, 5, 5}, gen), w = test::param({3, 2, 3, 3}, gen);
  const Tensor g = test::param({2, 3, 3, 3}, gen);
  CHECK(ag::gradcheck([&](const Inputs& v) { return ag::conv2d_input_gradient(v[0], v[1], x.shape(), options); },
                      {g, w}));
  CHECK(ag::gradcheck([&](const Inputs& v) { return ag::conv2d_weight_gradient(v[0], v[1], w.shape(), options); },
                      {x, g}));
  // Their values are conv2d's own gradients.
  const Tensor y = ag::conv2d(x, w, Tensor(), options);
  const auto grads = ag::grad(y, {x, w}, g.detach());
  CHECK(max_abs_diff(ag::conv2d_input_gradient(g, w, x.shape(), options), grads[0]) < 1e-14);
  CHECK(max_abs_diff(ag::conv2d_weight_gradient(x, g, w.shape(), options), grads[1]) < 1e-14);
  CHECK_THROWS_WITH_AS(ag::conv2d_input_gradient(g, w, {2, 2, 9, 9}, options),
                       doctest::Contains("conv2d_input_gradient: grad_output is not the shape of conv2d's output"),
                       ag::Error);
}

TEST_CASE("gradgradcheck: subsample, upsample_nearest and max_pool2d") {
  ag::Generator gen(53);
  const Tensor x = test::param({2, 2, 4, 4}, gen), coeff = test::param({2}, gen), bias = test::param({2}, gen);
  for (const auto activation : {ag::Activation::none, ag::Activation::scaled_tanh, ag::Activation::sigmoid}) {
    CAPTURE(ag::activation_name(activation));
    CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], 2, activation); },
                            {x, coeff, bias}));
    CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::max_pool2d(ag::square(v[0]), 2, 2, activation); },
                            {x}));
  }
  CHECK(ag::gradgradcheck([](const Inputs& v) { return ag::upsample_nearest(ag::square(v[0]), 2); },
                          {test::param({1, 2, 2, 3}, gen)}));
  CHECK(ag::upsample_nearest(ag::from_vector({1, 2}, {1, 1, 1, 2}, DType::f64), 2).to_vector() ==
        std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2});
}

TEST_CASE("gradgradcheck: linear with each activation, and the RBF units") {
  ag::Generator gen(54);
  const Tensor x = test::param({3, 4}, gen), w = test::param({2, 4}, gen), b = test::param({2}, gen);
  for (const auto activation : {ag::Activation::none, ag::Activation::tanh, ag::Activation::scaled_tanh,
                                ag::Activation::sigmoid}) {
    CAPTURE(ag::activation_name(activation));
    CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::linear(v[0], v[1], v[2], activation); }, {x, w, b}));
  }
  CHECK(ag::gradgradcheck([](const Inputs& v) { return ag::rbf(v[0], v[1]); }, {x, test::param({5, 4}, gen)}));
}

TEST_CASE("gradgradcheck over random shapes: conv2d (per-axis geometry), subsample, max_pool2d, linear, rbf") {
  ag::Generator gen(55);
  const auto below = [&](std::uint64_t n) { return static_cast<std::int64_t>(gen.below(n)); };
  for (int trial = 0; trial < 4; ++trial) {
    CAPTURE(trial);
    const std::int64_t n = 1 + below(2), c = 1 + below(3), k = 1 + below(3), kh = 1 + below(3), kw = 1 + below(3);
    ag::Conv2dOptions options;
    options.stride = ag::Size2{1 + below(2), 1 + below(2)};
    options.padding = ag::Size2{below(2), below(2)};
    const Tensor x = test::param({n, c, kh + 1 + below(3), kw + 1 + below(3)}, gen);
    const Tensor w = test::param({k, c, kh, kw}, gen), b = test::param({k}, gen);
    CAPTURE(shape_str(x.shape()));
    CAPTURE(shape_str(w.shape()));
    CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], options); }, {x, w, b}));

    const std::int64_t window = 1 + below(2), rows = window * (1 + below(3)), cols = window * (1 + below(3));
    const Tensor maps = test::param({n, c, rows, cols}, gen);
    const Tensor coeff = test::param({c}, gen), bias = test::param({c}, gen);
    CAPTURE(shape_str(maps.shape()));
    CHECK(ag::gradgradcheck(
        [&](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], window, ag::Activation::scaled_tanh); },
        {maps, coeff, bias}));
    CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::max_pool2d(ag::square(v[0]), window, window); },
                            {maps}));

    const std::int64_t in = 1 + below(5), out = 1 + below(4);
    const Tensor features = test::param({n, in}, gen);
    CHECK(ag::gradgradcheck([&](const Inputs& v) { return ag::linear(v[0], v[1], v[2], ag::Activation::tanh); },
                            {features, test::param({out, in}, gen), test::param({out}, gen)}));
    CHECK(ag::gradgradcheck([](const Inputs& v) { return ag::rbf(v[0], v[1]); },
                            {features, test::param({out, in}, gen)}));
  }
}
