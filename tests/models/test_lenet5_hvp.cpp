// Second derivatives through the whole of LeNet-5, both variants, in float64: a Hessian-vector product by
// double backward against central differences of the gradient, (g(p + e v) - g(p - e v)) / 2e.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <models/lenet5.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace {

using ag::Tensor;

/// Returns every parameter's gradient of `loss()`, concatenated.
std::vector<double> flat_gradient(const std::function<Tensor()>& loss, const std::vector<Tensor>& params) {
  std::vector<double> out;
  for (const Tensor& g : ag::grad(loss(), params))
    for (double v : g.to_vector()) out.push_back(v);
  return out;
}

/// Moves every parameter by `step` times its direction, outside the graph.
void move(std::vector<Tensor>& params, const std::vector<Tensor>& directions, double step) {
  const ag::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) {
    double* p = params[i].mutable_data<double>();
    const double* d = directions[i].data<double>();
    for (std::int64_t e = 0; e < params[i].numel(); ++e) p[e] += step * d[e];
  }
}

}  // namespace

TEST_CASE("hvp through LeNet-5 (both variants) matches central differences of its gradient") {
  for (const auto variant : {ag::models::Variant::lecun1998, ag::models::Variant::modern}) {
    CAPTURE(ag::models::variant_name(variant));
    ag::Generator gen(61);
    auto net = ag::models::make_model(variant, gen, ag::DType::f64);
    const std::int64_t side = ag::models::input_side(variant);
    const Tensor x = ag::uniform({2, 1, side, side}, -0.1, 1.175, gen, ag::DType::f64);
    const Tensor target = ag::from_vector({3, 7}, {2}, ag::DType::i64);
    const auto loss = [&] {
      const Tensor out = net->forward(x);
      return variant == ag::models::Variant::lecun1998 ? ag::rbf_map_loss(out, target, 0.1)
                                                       : ag::cross_entropy(out, target);
    };
    std::vector<Tensor> params, directions;
    for (const auto& p : net->parameters()) {
      params.push_back(p.value);
      directions.push_back(ag::normal(p.value.shape(), 0.0, 1.0, gen, ag::DType::f64));
    }
    std::vector<double> exact;
    for (const Tensor& h : ag::hvp(loss(), params, directions))
      for (double v : h.to_vector()) exact.push_back(v);
    constexpr double eps = 1e-5;
    move(params, directions, eps);
    const auto plus = flat_gradient(loss, params);
    move(params, directions, -2 * eps);
    const auto minus = flat_gradient(loss, params);
    move(params, directions, eps);
    REQUIRE(exact.size() == plus.size());
    double scale = 0, worst = 0;
    for (double v : exact) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < exact.size(); ++i)
      worst = std::max(worst, std::abs(exact[i] - (plus[i] - minus[i]) / (2 * eps)));
    CAPTURE(scale);
    CHECK(scale > 0);
    CHECK(worst <= 1e-6 * scale);
  }
}
