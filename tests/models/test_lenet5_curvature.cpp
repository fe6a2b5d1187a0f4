// The curvature pass through the whole of LeNet-5, both variants, float64, batch 2: its per-parameter diagonal
// against the exact Gauss-Newton diagonal diag(J^T H J), J the Jacobian of the network's output with respect to
// every parameter, H the full Hessian of the loss with respect to that output. The pass drops off-diagonal terms
// at every layer (as the paper's Appendix C does), so it is an approximation: the distance is printed, with a
// loose sanity check.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <models/lenet5.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using ag::Tensor;

/// One variant's set-up: the network's output (the RBF's input for lecun1998, whose RBF is part of the loss, as
/// in the pass; the logits for modern) and the loss of that output.
struct Problem {
  std::function<Tensor()> output;
  std::function<Tensor(const Tensor&)> loss;
};

Problem problem(ag::models::Variant variant, ag::nn::Sequential& net, const Tensor& x, const Tensor& target) {
  if (variant == ag::models::Variant::modern)
    return {[&net, x] { return net.forward(x); }, [target](const Tensor& out) { return ag::cross_entropy(out, target); }};
  const auto& layers = net.children();
  return {[&layers, x] {
            Tensor h = x;
            for (std::size_t i = 0; i + 1 < layers.size(); ++i) h = layers[i].second->forward(h);
            return h;
          },
          [rbf_output = layers.back().second, target](const Tensor& h) {
            return ag::rbf_map_loss(rbf_output->forward(h), target, 0.1);
          }};
}

/// LeNet-5 of one variant in float64 (seed 19), a batch of 2 inputs [2,1,side,side] and their targets [2].
struct Setup {
  std::shared_ptr<ag::nn::Sequential> net;
  Tensor x, target;
};

Setup make_setup(ag::models::Variant variant) {
  ag::Generator gen(19);
  auto net = ag::models::make_model(variant, gen, ag::DType::f64);
  const std::int64_t side = ag::models::input_side(variant);
  const Tensor x = ag::uniform({2, 1, side, side}, -0.1, 1.175, gen, ag::DType::f64);
  return {net, x, ag::from_vector({3, 7}, {2}, ag::DType::i64)};
}

/// Returns the full Hessian [K x K] of loss(out) with respect to the output out (K elements), by one
/// Hessian-vector product per column.
std::vector<std::vector<double>> output_hessian(const Problem& p, const Tensor& out_value) {
  Tensor out = out_value.detach();
  out.requires_grad_();
  std::vector<std::vector<double>> h;
  for (std::int64_t k = 0; k < out.numel(); ++k) {
    Tensor unit = ag::zeros(out.shape(), ag::DType::f64);
    unit.mutable_data<double>()[k] = 1;
    h.push_back(ag::hvp(p.loss(out), {out}, {unit})[0].to_vector());
  }
  return h;
}

/// Returns the exact Gauss-Newton diagonal, per parameter, flattened in parameters' order.
std::vector<double> exact_gauss_newton(const Problem& p, const std::vector<Tensor>& params) {
  const Tensor out = p.output();
  const auto h = output_hessian(p, out);
  std::vector<std::vector<double>> jacobian;  // [K][every parameter element]
  for (std::int64_t k = 0; k < out.numel(); ++k) {
    Tensor unit = ag::zeros(out.shape(), ag::DType::f64);
    unit.mutable_data<double>()[k] = 1;
    std::vector<double> row;
    for (const Tensor& g : ag::grad(out, params, unit, true)) {
      const auto v = g.to_vector();
      row.insert(row.end(), v.begin(), v.end());
    }
    jacobian.push_back(std::move(row));
  }
  const std::size_t count = jacobian.front().size(), outputs = jacobian.size();
  std::vector<double> diagonal(count, 0.0);
  for (std::size_t a = 0; a < outputs; ++a)
    for (std::size_t b = 0; b < outputs; ++b) {
      const double hab = h[a][b];
      if (hab == 0) continue;
      for (std::size_t e = 0; e < count; ++e) diagonal[e] += jacobian[a][e] * hab * jacobian[b][e];
    }
  return diagonal;
}

}  // namespace

TEST_CASE("LeNet-5's curvature pass against the exact Gauss-Newton diagonal (both variants, float64)") {
  for (const auto variant : {ag::models::Variant::lecun1998, ag::models::Variant::modern}) {
    CAPTURE(ag::models::variant_name(variant));
    const Setup set_up = make_setup(variant);
    const auto& net = set_up.net;
    const Problem p = problem(variant, *net, set_up.x, set_up.target);
    std::vector<Tensor> params;
    for (const auto& param : net->parameters()) params.push_back(param.value);
    const ag::CurvatureResult pass = ag::backward_curvature(p.loss(p.output()), params);
    const std::vector<double> exact = exact_gauss_newton(p, params);
    std::vector<double> approx;
    std::string per_parameter;
    const auto parameters = net->parameters();
    for (std::size_t k = 0; k < pass.diagonals.size(); ++k) {
      const std::size_t first = approx.size();
      for (double v : pass.diagonals[k].to_vector()) approx.push_back(v);
      double d2 = 0, n2 = 0;
      for (std::size_t e = first; e < approx.size(); ++e) {
        d2 += (approx[e] - exact[e]) * (approx[e] - exact[e]);
        n2 += exact[e] * exact[e];
      }
      per_parameter += " " + parameters[k].name + " " + std::to_string(n2 > 0 ? std::sqrt(d2 / n2) : std::sqrt(d2));
    }
    REQUIRE(approx.size() == exact.size());
    MESSAGE(ag::models::variant_name(variant), ": relative L2 distance per parameter:", per_parameter);
    double diff2 = 0, norm2 = 0, trace_pass = 0, trace_exact = 0;
    bool non_negative = true;
    for (std::size_t e = 0; e < exact.size(); ++e) {
      diff2 += (approx[e] - exact[e]) * (approx[e] - exact[e]);
      norm2 += exact[e] * exact[e];
      trace_pass += approx[e];
      trace_exact += exact[e];
      non_negative = non_negative && approx[e] >= 0;
    }
    const double relative = std::sqrt(diff2 / norm2);
    MESSAGE(ag::models::variant_name(variant), ": layer-by-layer diagonal vs exact Gauss-Newton diagonal over ",
            exact.size(), " parameters: relative L2 distance ", relative, ", trace ratio ", trace_pass / trace_exact);
    CHECK(non_negative);
    CHECK(relative < 1.0);
    CHECK(trace_pass / trace_exact > 0.1);
    CHECK(trace_pass / trace_exact < 10);
  }
}

TEST_CASE("LeNet-5's curvature pass beside the exact Hessian diagonal, for the small parameters (both variants)") {
  // The exact Hessian keeps what Gauss-Newton drops (the terms in each squashing function's second derivative),
  // so this is a figure, not a bound: one double-backward pass per element, for the biases and coefficients.
  for (const auto variant : {ag::models::Variant::lecun1998, ag::models::Variant::modern}) {
    const Setup set_up = make_setup(variant);
    const auto& net = set_up.net;
    const Problem p = problem(variant, *net, set_up.x, set_up.target);
    std::vector<Tensor> small;
    std::string names;
    for (const auto& param : net->parameters())
      if (param.value.numel() <= 120) {
        small.push_back(param.value);
        names += " " + param.name;
      }
    const ag::CurvatureResult pass = ag::backward_curvature(p.loss(p.output()), small);
    const std::vector<Tensor> hessian = ag::hessian_diagonal(p.loss(p.output()), small);
    double diff2 = 0, norm2 = 0;
    for (std::size_t k = 0; k < small.size(); ++k) {
      const auto a = pass.diagonals[k].to_vector(), e = hessian[k].to_vector();
      for (std::size_t i = 0; i < a.size(); ++i) {
        diff2 += (a[i] - e[i]) * (a[i] - e[i]);
        norm2 += e[i] * e[i];
      }
    }
    MESSAGE(ag::models::variant_name(variant), ": pass vs exact Hessian diagonal over", names,
            ": relative L2 distance ", std::sqrt(diff2 / norm2));
    CHECK(std::isfinite(diff2));
  }
}
