// Double back-propagation: the penalty's value against its closed form, its gradient against central
// differences (a linear model, then both LeNet-5 variants in float64, where it runs through every op's
// differentiable rule), and its errors.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <models/lenet5.h>
#include <nn/input_gradient_penalty.h>

#include <cmath>
#include <functional>

using ag::Tensor;

TEST_CASE("input_gradient_penalty: (1/N) sum_n |dE_n/dx_n|^2 for E_n = (w . x_n)^2") {
  ag::Generator gen(71);
  const Tensor w = ag::uniform({3, 1}, -1, 1, gen, ag::DType::f64).requires_grad_();
  const Tensor x = ag::uniform({4, 3}, -1, 1, gen, ag::DType::f64).requires_grad_();
  const Tensor penalty = ag::nn::input_gradient_penalty(ag::mean(ag::square(ag::matmul(x, w))), x);
  // dE_n/dx_n = 2 (w . x_n) w, so |dE_n/dx_n|^2 = 4 (w . x_n)^2 |w|^2.
  const auto wv = w.to_vector(), xv = x.to_vector();
  double expected = 0, w2 = 0;
  for (double v : wv) w2 += v * v;
  for (int n = 0; n < 4; ++n) {
    double dot = 0;
    for (int d = 0; d < 3; ++d) dot += wv[static_cast<std::size_t>(d)] * xv[static_cast<std::size_t>(n * 3 + d)];
    expected += 4 * dot * dot * w2 / 4;
  }
  CHECK(penalty.item() == doctest::Approx(expected).epsilon(1e-14));
  REQUIRE(penalty.requires_grad());
  // Its gradient with respect to w, against central differences (the inputs made afresh in each call).
  const auto f = [&](const std::vector<Tensor>& in) {
    const ag::EnableGradGuard enable;
    const Tensor xs = x.detach().requires_grad_();
    return ag::nn::input_gradient_penalty(ag::mean(ag::square(ag::matmul(xs, in[0]))), xs);
  };
  CHECK(ag::gradcheck(f, {w}));
}

TEST_CASE("input_gradient_penalty: its gradient through LeNet-5 (both variants) matches central differences") {
  for (const auto variant : {ag::models::Variant::lecun1998, ag::models::Variant::modern}) {
    CAPTURE(ag::models::variant_name(variant));
    ag::Generator gen(72);
    auto net = ag::models::make_model(variant, gen, ag::DType::f64);
    const std::int64_t side = ag::models::input_side(variant);
    const Tensor images = ag::uniform({2, 1, side, side}, -0.1, 1.175, gen, ag::DType::f64);
    const Tensor target = ag::from_vector({1, 8}, {2}, ag::DType::i64);
    const auto objective = [&] {  // E + 0.5 P
      const Tensor x = images.detach().requires_grad_();
      const Tensor out = net->forward(x);
      const Tensor loss = variant == ag::models::Variant::lecun1998 ? ag::rbf_map_loss(out, target, 0.1)
                                                                    : ag::cross_entropy(out, target);
      return ag::add(loss, ag::mul(ag::nn::input_gradient_penalty(loss, x), 0.5));
    };
    std::vector<Tensor> params, directions;
    for (const auto& p : net->parameters()) {
      params.push_back(p.value);
      directions.push_back(ag::normal(p.value.shape(), 0.0, 1.0, gen, ag::DType::f64));
    }
    double analytical = 0;
    const auto grads = ag::grad(objective(), params);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto g = grads[i].to_vector(), d = directions[i].to_vector();
      for (std::size_t e = 0; e < g.size(); ++e) analytical += g[e] * d[e];
    }
    const auto value_moved = [&](double step) {
      {
        const ag::NoGradGuard no_grad;
        for (std::size_t i = 0; i < params.size(); ++i) {
          double* p = params[i].mutable_data<double>();
          for (std::int64_t e = 0; e < params[i].numel(); ++e) p[e] += step * directions[i].data<double>()[e];
        }
      }
      return objective().item();
    };
    constexpr double eps = 1e-6;
    const double plus = value_moved(eps), minus = value_moved(-2 * eps);
    value_moved(eps);
    CHECK(analytical == doctest::Approx((plus - minus) / (2 * eps)).epsilon(1e-6));
  }
}

TEST_CASE("input_gradient_penalty: bad arguments are named") {
  const Tensor x = ag::ones({2, 3}, ag::DType::f64).requires_grad_();
  const Tensor loss = ag::mean(ag::square(x));
  CHECK_THROWS_WITH_AS(ag::nn::input_gradient_penalty(ag::square(x), x), doctest::Contains("needs a one-element loss"),
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::nn::input_gradient_penalty(loss, ag::ones({2, 3})),
                       doctest::Contains("the input must be a batch [N,...] that requires a gradient, got [2,3]"),
                       ag::Error);
}
