// The gradcheck harness itself: it must pass right gradients and catch wrong ones, with a useful report.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <atomic>

#include "support/random_inputs.h"

using ag::Tensor;
using Inputs = std::vector<Tensor>;

namespace {

/// y = x^3 with a backward rule scaled by `factor` (1 is right; anything else is a planted bug).
Tensor cube_with_rule(const Tensor& x, double factor) {
  Tensor out = ag::pow(x.detach(), 3.0);
  return ag::record("cube", out, {x}, [factor](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{ag::mul(ag::mul(g, ag::square(in[0])), 3.0 * factor)};
  });
}

}  // namespace

TEST_CASE("gradcheck passes a correct user-defined op") {
  ag::Generator gen(1);
  CHECK(ag::gradcheck([](const Inputs& in) { return cube_with_rule(in[0], 1.0); }, {test::param({3, 2}, gen)}));
}

TEST_CASE("gradcheck catches a wrong gradient and reports op, input, element and both values") {
  Tensor x = ag::from_vector({1.0, 2.0}, {2}, ag::DType::f64);
  x.requires_grad_();
  const auto result = ag::gradcheck([](const Inputs& in) { return cube_with_rule(in[0], 1.1); }, {x});
  CHECK_FALSE(result.passed);
  CHECK(result.message ==
        "gradcheck of cube: Jacobian mismatch at input 0 [2] element 0 [0] output element 0: analytical 3.3 vs "
        "numerical 3");
}

TEST_CASE("gradcheck fails an all-zero analytical gradient where the numerical one is not zero") {
  Tensor x = ag::from_vector({1.0, 2.0}, {2}, ag::DType::f64);
  x.requires_grad_();
  auto f = [](const Inputs& in) {
    return ag::record("forgetful", ag::square(in[0].detach()), {in[0]},
                      [](const Tensor&, const std::vector<Tensor>&) { return std::vector<Tensor>{Tensor()}; });
  };
  const auto result = ag::gradcheck(f, {x});
  CHECK_FALSE(result.passed);
  // The first mismatch is reported before the all-zero summary would be.
  CHECK(result.message.find("gradcheck of forgetful:") == 0);
  CHECK(result.message.find("analytical 0 vs numerical 2") != std::string::npos);
}

TEST_CASE("gradcheck's all-zero check fires when every entry is within tolerance but the gradient is missing") {
  // Numerical gradient 4e-6 is inside atol (1e-5), so entry-wise checks pass; only the all-zero check catches it.
  Tensor x = ag::from_vector({1.0}, {1}, ag::DType::f64);
  x.requires_grad_();
  auto f = [](const Inputs& in) {
    return ag::record("tiny", ag::mul(in[0].detach(), 4e-6), {in[0]},
                      [](const Tensor&, const std::vector<Tensor>&) { return std::vector<Tensor>{Tensor()}; });
  };
  const auto result = ag::gradcheck(f, {x});
  CHECK_FALSE(result.passed);
  CHECK(result.message ==
        "gradcheck of tiny: the analytical gradient is all zero but the numerical one is not (input 0 [1] element 0 "
        "[0] output element 0: numerical 4e-06)");
}

TEST_CASE("gradcheck requires two backward passes to agree") {
  Tensor x = ag::from_vector({1.0}, {1}, ag::DType::f64);
  x.requires_grad_();
  auto calls = std::make_shared<int>(0);
  auto f = [calls](const Inputs& in) {
    return ag::record("flaky", ag::mul(in[0].detach(), 2.0), {in[0]}, [calls](const Tensor& g, const std::vector<Tensor>&) {
      return std::vector<Tensor>{ag::mul(g, ++*calls == 1 ? 2.0 : 2.0 + 1e-9)};
    });
  };
  const auto result = ag::gradcheck(f, {x});
  CHECK_FALSE(result.passed);
  CHECK(result.message.find("gradcheck of flaky: backward is not deterministic") == 0);
}

TEST_CASE("gradcheck insists on float64") {
  Tensor x = ag::ones({2});
  x.requires_grad_();
  const auto result = ag::gradcheck([](const Inputs& in) { return in[0] * 2.0; }, {x});
  CHECK(result.message == "gradcheck: input 0 [2] is float32; gradcheck needs float64 inputs");
}

TEST_CASE("fast mode compares random projections, passing right rules and failing wrong ones") {
  ag::Generator gen(2);
  Tensor x = test::param({40, 30}, gen);
  ag::GradcheckOptions fast;
  fast.fast_mode = true;
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::tanh(ag::matmul(in[0], ag::transpose(in[0], 0, 1))); }, {x}, fast));
  const auto wrong = ag::gradcheck([](const Inputs& in) { return cube_with_rule(in[0], 0.9); }, {x}, fast);
  CHECK_FALSE(wrong.passed);
  CHECK(wrong.message.find("gradcheck of cube: projection v^T J u mismatch for input 0 [40,30]") == 0);
}
