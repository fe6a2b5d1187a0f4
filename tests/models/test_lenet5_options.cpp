// LeNet-5's options where reproductions of the paper differ (models::PaperOptions): the 28x28 zero-padded input,
// sub-sampling by window average, the sigmoid after sub-sampling, random output codes, the +-1/sqrt(F) weights.
// Each is checked against the paper's model built from the same generator seed, and gradcheck runs through the
// model with all of them.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <models/connection_table.h>
#include <models/digit_codes.h>
#include <models/lenet5.h>
#include <nn/layers/subsampling.h>

#include <cmath>
#include <vector>

#include "support/random_inputs.h"

namespace {

/// Returns the named parameter or buffer of `net`.
ag::Tensor entry(const ag::nn::Module& net, const std::string& name) {
  for (const auto& [n, t] : net.state())
    if (n == name) return t;
  FAIL("no entry " << name);
  return {};
}

}  // namespace

TEST_CASE("PaperOptions: 28x28 zero-padded input, the same 60,000 parameters drawn alike") {
  ag::Generator a(5), b(5);
  auto paper = ag::models::lecun1998(a);
  auto padded = ag::models::lecun1998(b, ag::DType::f32, {.zero_padded_28 = true});
  CHECK(ag::models::input_side(ag::models::PaperOptions{.zero_padded_28 = true}) == 28);
  CHECK(padded->trainable_count() == 60000);
  CHECK(padded->forward(ag::zeros({2, 1, 28, 28})).shape() == ag::Shape{2, 10});
  for (const auto& p : paper->parameters()) CHECK(entry(*padded, p.name).to_vector() == p.value.to_vector());
  // A 28x28 image with C1 zero-padding is the paper's 32x32 image whose border is 0: the same output.
  ag::Generator pixels(6);
  const ag::Tensor image = ag::uniform({1, 1, 28, 28}, -0.1, 1.175, pixels);
  std::vector<double> border(32 * 32, 0.0);
  const auto inner = image.to_vector();
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 28; ++c) border[(r + 2) * 32 + c + 2] = inner[r * 28 + c];
  const ag::Tensor bordered = ag::from_vector(border, {1, 1, 32, 32});
  const auto got = padded->forward(image).to_vector(), want = paper->forward(bordered).to_vector();
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

TEST_CASE("PaperOptions: window average is the window sum with a quarter of the coefficient; sigmoid after it") {
  ag::Generator gen(7);
  ag::nn::Subsampling sum(3, 2, gen, ag::nn::Init::lecun1998, ag::DType::f64, ag::Activation::sigmoid);
  ag::Generator again(7);
  ag::nn::Subsampling average(3, 2, again, ag::nn::Init::lecun1998, ag::DType::f64, ag::Activation::sigmoid,
                              {.average = true});
  CHECK(average.describe() == "Subsampling(3 maps, 2x2 average, coeff+bias, then sigmoid)");
  const ag::Tensor x = ag::uniform({2, 3, 4, 4}, -1, 1, gen, ag::DType::f64);
  {
    const ag::NoGradGuard no_grad;  // a parameter is written outside grad mode
    for (int c = 0; c < 3; ++c) sum.coeff.mutable_data<double>()[c] = 0.25 * average.coeff.data<double>()[c];
  }
  const auto got = average.forward(x).to_vector(), want = sum.forward(x).to_vector();
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-14));
  for (double y : got) CHECK((y > 0.0 && y < 1.0));  // the logistic sigmoid's range
}

TEST_CASE("PaperOptions: random codes are +-1, drawn after the weights, which are the paper's") {
  ag::Generator a(9), b(9);
  auto paper = ag::models::lecun1998(a);
  auto random = ag::models::lecun1998(b, ag::DType::f32, {.random_codes = true});
  for (const auto& p : paper->parameters()) CHECK(entry(*random, p.name).to_vector() == p.value.to_vector());
  const auto codes = entry(*random, "output.centres").to_vector();
  REQUIRE(codes.size() == 840);
  int plus = 0;
  for (double v : codes) {
    CHECK((v == 1.0 || v == -1.0));
    plus += v > 0 ? 1 : 0;
  }
  CHECK(plus > 840 / 2 - 60);  // about half of each sign: 840 fair draws
  CHECK(plus < 840 / 2 + 60);
  CHECK(codes != ag::models::digit_codes().to_vector());
}

TEST_CASE("PaperOptions: lecun_sqrt draws each weight in +-1/sqrt(F): the paper's draws times sqrt(F)/2.4") {
  ag::Generator a(13), b(13);
  auto paper = ag::models::lecun1998(a);
  auto rooted = ag::models::lecun1998(b, ag::DType::f32, {.init = ag::nn::Init::lecun_sqrt});
  // The fan-in F of each unit: 25 for C1, 4 for a sub-sampling coefficient, 25 per S2 map read for C3 (Table I),
  // 400 for C5, 120 for F6. The generator is consumed alike, so each value is the paper's rescaled, and the
  // biases (+-2.4/F in both) are the paper's.
  const auto c3_table = ag::models::lenet5_c3_table();
  const auto fan_in = [&](const std::string& name, std::int64_t unit) -> double {
    if (name == "c1.weight") return 25;
    if (name == "s2.coeff" || name == "s4.coeff") return 4;
    if (name == "c3.weight") {
      double maps = 0;
      for (std::int64_t c = 0; c < c3_table.inputs(); ++c) maps += c3_table.connected(unit, c) ? 1 : 0;
      return 25 * maps;
    }
    if (name == "c5.weight") return 400;
    if (name == "f6.weight") return 120;
    return 0;  // a bias
  };
  for (const auto& p : paper->parameters()) {
    CAPTURE(p.name);
    const std::vector<double> want = p.value.to_vector(), got = entry(*rooted, p.name).to_vector();
    REQUIRE(got.size() == want.size());
    const std::int64_t units = p.value.shape()[0], per_unit = p.value.numel() / units;
    for (std::int64_t i = 0; i < p.value.numel(); ++i) {
      const double f = fan_in(p.name, i / per_unit);
      if (f == 0) {
        CHECK(got[i] == want[i]);
        continue;
      }
      CHECK(std::abs(got[i]) <= 1.0 / std::sqrt(f));
      CHECK(got[i] == doctest::Approx(want[i] * std::sqrt(f) / 2.4).epsilon(1e-5));
    }
  }
}

TEST_CASE("gradcheck through LeNet-5 with every option on, and the averaged coefficients' gradients (float64)") {
  ag::Generator gen(11);
  const ag::models::PaperOptions all{.zero_padded_28 = true, .window_average = true,
                                     .subsampling_squash = ag::Activation::sigmoid, .random_codes = true};
  auto net = ag::models::lecun1998(gen, ag::DType::f64, all);
  ag::Tensor x = ag::uniform({1, 1, 28, 28}, -0.1, 1.175, gen, ag::DType::f64);
  x.requires_grad_();
  ag::GradcheckOptions fast;
  fast.fast_mode = true;
  CHECK(ag::gradcheck([&](const std::vector<ag::Tensor>& in) { return net->forward(in[0]); }, {x}, fast));
  // The coefficients, which the average scales: their gradients against central differences of the output's sum.
  const auto loss = [&] { return ag::sum(net->forward(x.detach())); };
  loss().backward();
  for (const std::string name : {"s2.coeff", "s4.coeff"}) {
    CAPTURE(name);
    ag::Tensor coeff = entry(*net, name);
    CHECK(coeff.grad().at({1}) == doctest::Approx(test::central_difference(coeff, {1}, loss)).epsilon(1e-6));
  }
}
