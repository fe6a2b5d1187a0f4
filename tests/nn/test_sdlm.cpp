// Stochastic diagonal Levenberg-Marquardt (nn/optim/sdlm.h) and its curvature estimate (nn/optim/hessian_estimate.h):
// the step by hand, the estimate against ag::backward_curvature, the state a checkpoint carries, the errors.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <autograd/curvature.h>
#include <models/lenet5.h>
#include <nn/loss.h>
#include <nn/optim/hessian_estimate.h>
#include <nn/optim/sdlm.h>

#include <string>
#include <vector>

using ag::Tensor;
using ag::nn::Parameter;

namespace {

/// Returns a parameter named `name` holding `values` (float64, shape [n]), requiring a gradient.
Parameter parameter(const std::string& name, const std::vector<double>& values) {
  Tensor t = ag::from_vector(values, {static_cast<std::int64_t>(values.size())}, ag::DType::f64);
  t.requires_grad_();
  return {name, t, t.numel()};
}

std::string error_of(const auto& f) {
  try {
    f();
  } catch (const ag::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("an SDLM step is w_k -= eta / (mu + h_kk) g_k, element by element") {
  Parameter w = parameter("w", {1.0, -2.0, 0.5});
  ag::nn::Sdlm sdlm({w}, ag::nn::SdlmOptions{0.5, 0.25, 0.0});
  CHECK(sdlm.mu() == 0.25);
  const auto state = sdlm.state();
  REQUIRE(state.size() == 1);
  CHECK(state[0].first == "w.hessian");
  CHECK(state[0].second.to_vector() == std::vector<double>{0, 0, 0});  // h = 0 until estimated

  // h = 0: plain SGD at eta / mu = 2.
  w.value.set_grad(ag::from_vector({1.0, -2.0, 0.5}, {3}, ag::DType::f64));
  sdlm.step();
  CHECK(w.value.to_vector() == std::vector<double>{-1.0, 2.0, -0.5});

  // eta / (mu + h) = 0.5 / 1, 0.5 / 2, 0.5 / 0.25: steps 0.5, 0.25 and 2 times the gradient.
  sdlm.set_hessian({ag::from_vector({0.75, 1.75, 0.0}, {3}, ag::DType::f64)});
  CHECK(state[0].second.to_vector() == std::vector<double>{0.75, 1.75, 0.0});  // written into state()'s tensor
  w.value.set_grad(ag::from_vector({1.0, -2.0, 0.5}, {3}, ag::DType::f64));
  sdlm.step();
  CHECK(w.value.to_vector() == std::vector<double>{-1.5, 2.5, -1.5});
  CHECK(sdlm.steps() == 2);

  // A new rate (the schedule's) scales the step: 0.25 / (0.25 + 0.75) = 0.25 for the first element.
  sdlm.set_learning_rate(0.25);
  w.value.set_grad(ag::from_vector({2.0, 0.0, 0.0}, {3}, ag::DType::f64));
  sdlm.step();
  CHECK(w.value.to_vector() == std::vector<double>{-2.0, 2.5, -1.5});
}

TEST_CASE("on a tiny model, y = w.x + b with a squared error: the estimate and the step by hand") {
  // E_s = (w.x_s + b - t_s)^2; its Gauss-Newton diagonal is d2E/dy2 * (dy/dw_k)^2 = 2 x_k^2, and 2 for b.
  // Over x = (1, 2) and (3, -1): h_w = (2 (1 + 9) / 2, 2 (4 + 1) / 2) = (10, 5), h_b = 2.
  Parameter w = parameter("w", {0.5, -0.25}), b = parameter("b", {0.125});
  const std::vector<std::vector<double>> xs = {{1, 2}, {3, -1}};
  const std::vector<double> ts = {1.0, -1.0};
  const auto loss_of = [&](std::int64_t s) {
    const Tensor x = ag::from_vector(xs[static_cast<std::size_t>(s)], {2}, ag::DType::f64);
    const Tensor y = ag::add(ag::sum(ag::mul(w.value, x)), b.value);  // [1]
    return ag::mse_loss(y, ag::from_vector({ts[static_cast<std::size_t>(s)]}, {1}, ag::DType::f64));
  };
  const std::vector<Tensor> h = ag::nn::mean_curvature({w, b}, 2, loss_of);
  REQUIRE(h.size() == 2);
  CHECK(h[0].to_vector() == std::vector<double>{10, 5});
  CHECK(h[1].to_vector() == std::vector<double>{2});
  CHECK(h[0].dtype() == ag::DType::f64);
  CHECK_FALSE(w.value.grad().defined());  // the estimate leaves no gradient

  ag::nn::Sdlm sdlm({w, b}, ag::nn::SdlmOptions{0.75, 0.25, 0.0});
  sdlm.set_hessian(h);
  // Sample 0: y = 0.5 - 0.5 + 0.125 = 0.125, dE/dy = 2 (0.125 - 1) = -1.75, g_w = (-1.75, -3.5), g_b = -1.75.
  loss_of(0).backward();
  sdlm.step();
  // w_0 = 0.5 + 0.75 / 10.25 * 1.75, w_1 = -0.25 + 0.75 / 5.25 * 3.5, b = 0.125 + 0.75 / 2.25 * 1.75.
  CHECK(w.value.to_vector()[0] == doctest::Approx(0.628048780487804878).epsilon(1e-15));
  CHECK(w.value.to_vector()[1] == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(b.value.to_vector()[0] == doctest::Approx(0.708333333333333333).epsilon(1e-15));
}

TEST_CASE("the estimate is the mean of backward_curvature's diagonals over the samples, updating nothing") {
  ag::Generator init(11);
  auto model = ag::models::make_model(ag::models::Variant::lecun1998, init);
  const auto parameters = model->parameters();
  ag::nn::Sdlm sdlm(parameters, ag::nn::SdlmOptions{});
  sdlm.update_in_backward();  // as in train_lenet: the estimate must not step
  std::vector<std::vector<double>> before;
  for (const auto& p : parameters) before.push_back(p.value.to_vector());

  ag::Generator data(12);
  std::vector<Tensor> images;
  for (int s = 0; s < 3; ++s) images.push_back(ag::uniform({1, 1, 32, 32}, -0.1, 1.175, data));
  const auto loss_of = [&](std::int64_t s) {
    const Tensor label = ag::from_indices({(s * 3 + 1) % 10}, {1});
    return ag::nn::compute_loss(ag::nn::LossKind::map, model->forward(images[static_cast<std::size_t>(s)]), label, 1.0);
  };
  const std::vector<Tensor> estimate = ag::nn::mean_curvature(parameters, 3, loss_of);

  std::vector<Tensor> values;
  for (const auto& p : parameters) values.push_back(p.value);
  std::vector<std::vector<double>> sums(parameters.size());
  for (std::int64_t s = 0; s < 3; ++s) {
    const ag::CurvatureResult r = ag::backward_curvature(loss_of(s), values);
    for (std::size_t k = 0; k < values.size(); ++k) {
      const std::vector<double> d = r.diagonals[k].to_vector();
      sums[k].resize(d.size());
      for (std::size_t e = 0; e < d.size(); ++e) sums[k][e] += d[e];
    }
  }
  REQUIRE(estimate.size() == parameters.size());
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    CAPTURE(parameters[k].name);
    CHECK(estimate[k].dtype() == ag::DType::f32);
    std::vector<double> mean = sums[k];
    for (double& m : mean) m = static_cast<double>(static_cast<float>(m / 3));
    CHECK(estimate[k].to_vector() == mean);
    double total = 0;
    for (const double m : mean) total += m;
    CHECK(total > 0);  // every parameter of LeNet-5 has curvature
    CHECK(parameters[k].value.to_vector() == before[k]);
  }
  CHECK(sdlm.steps() == 0);
}

TEST_CASE("SDLM's bad options and estimates are refused with the parameter's name") {
  const Parameter w = parameter("c1.weight", {1.0, 2.0});
  CHECK(error_of([&] { ag::nn::Sdlm({w}, ag::nn::SdlmOptions{0.1, 0.0, 0.0}); }) ==
        "sdlm: mu must be finite and > 0, got 0");
  CHECK(error_of([&] { ag::nn::Sdlm({w}, ag::nn::SdlmOptions{0.1, 0.02, -1.0}); }) ==
        "sdlm: weight_decay must be >= 0, got -1");
  ag::nn::Sdlm sdlm({w}, ag::nn::SdlmOptions{});
  CHECK(error_of([&] { sdlm.set_hessian({}); }) == "sdlm: set_hessian expects one diagonal per parameter (1), got 0");
  CHECK(error_of([&] { sdlm.set_hessian({ag::zeros({3}, ag::DType::f64)}); }) ==
        "sdlm: the diagonal for parameter 'c1.weight' [2] has shape [3]");
  CHECK(error_of([&] { sdlm.set_hessian({ag::from_vector({0.5, -0.25}, {2}, ag::DType::f64)}); }) ==
        "sdlm: the diagonal for parameter 'c1.weight' holds -0.25; the curvature must be finite and >= 0");
  CHECK(sdlm.state()[0].second.to_vector() == std::vector<double>{0, 0});  // a refused estimate changes nothing
  CHECK(error_of([&] { ag::nn::mean_curvature({w}, 0, [](std::int64_t) { return Tensor(); }); }) ==
        "mean_curvature: needs at least one sample, got 0");
}
