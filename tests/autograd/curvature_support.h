#pragma once
// Helpers for the curvature tests: the exact Gauss-Newton diagonal diag(J^T diag(D) J) of one op from its
// explicit Jacobian (one ag::grad per output element), and the pass run under a loss whose Hessian with respect
// to the op's output is diag(D).
#include <autograd/autograd.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace curvature_test {

using ag::Tensor;
using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

/// Returns, for each input requiring a gradient (undefined otherwise), sum_k D_k J_kj^2 with J the Jacobian of
/// op(inputs) [any shape, K elements] with respect to that input, D [K] of the output's shape.
inline Inputs exact_gauss_newton_diagonal(const Op& op, const Inputs& inputs, const Tensor& d) {
  Inputs wanted, out(inputs.size());
  for (const auto& in : inputs)
    if (in.defined() && in.requires_grad()) wanted.push_back(in);
  std::vector<std::vector<double>> sums;
  for (const auto& in : wanted) sums.emplace_back(static_cast<std::size_t>(in.numel()), 0.0);
  const Tensor y = op(inputs);
  const std::vector<double> dv = d.to_vector();
  for (std::int64_t k = 0; k < y.numel(); ++k) {
    Tensor unit = ag::zeros(y.shape(), y.dtype());
    unit.mutable_data<double>()[k] = 1;
    const Inputs row = ag::grad(y, wanted, unit, true);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if (!row[i].defined()) continue;
      const std::vector<double> jr = row[i].to_vector();
      for (std::size_t j = 0; j < jr.size(); ++j) sums[i][j] += dv[static_cast<std::size_t>(k)] * jr[j] * jr[j];
    }
  }
  for (std::size_t i = 0, w = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) {
      out[i] = ag::from_vector(sums[w], inputs[i].shape(), ag::DType::f64);
      ++w;
    }
  return out;
}

/// Returns the pass's diagonals for the inputs requiring a gradient of op(inputs) under the loss
/// L = mse_loss(op(inputs) * a, target) with a = sqrt(D K / 2), whose Gauss-Newton Hessian with respect to the
/// op's output [K elements] is exactly diag(D) (mse's d2/dz2 = 2/K, times a^2).
inline Inputs pass_diagonal(const Op& op, const Inputs& inputs, const Tensor& d) {
  const Tensor y = op(inputs);
  const double k = static_cast<double>(y.numel());
  const Tensor scale = ag::sqrt(ag::mul(d, k / 2));
  ag::Generator gen(7);
  const Tensor target = ag::uniform(y.shape(), -1, 1, gen, ag::DType::f64);
  Inputs wanted;
  for (const auto& in : inputs)
    if (in.defined() && in.requires_grad()) wanted.push_back(in);
  const ag::CurvatureResult result = ag::backward_curvature(ag::mse_loss(ag::mul(y, scale), target), wanted);
  Inputs out(inputs.size());
  for (std::size_t i = 0, w = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) out[i] = result.diagonals[w++];
  return out;
}

/// Returns max |a - b| / max(1, max |b|).
inline double relative_difference(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto va = a.to_vector(), vb = b.to_vector();
  double scale = 1, worst = 0;
  for (double v : vb) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::abs(va[i] - vb[i]));
  return worst / scale;
}

/// Checks the pass against the explicit Jacobian for op on `inputs` with a random positive D (seed `seed`).
inline void check_against_jacobian(const Op& op, const Inputs& inputs, std::uint64_t seed = 3) {
  ag::Generator gen(seed);
  Tensor d;
  {
    const ag::NoGradGuard off;
    d = ag::uniform(op(inputs).shape(), 0.1, 1.0, gen, ag::DType::f64);
  }
  const Inputs exact = exact_gauss_newton_diagonal(op, inputs, d);
  const Inputs passed = pass_diagonal(op, inputs, d);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!exact[i].defined()) continue;
    CAPTURE(i);
    CHECK(relative_difference(passed[i], exact[i]) < 1e-10);
  }
}

}  // namespace curvature_test
