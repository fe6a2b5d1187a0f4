#include "autograd/gradcheck.h"

#include <fmt/format.h>

#include <cmath>
#include <ostream>

#include "autograd/backward.h"
#include "autograd/graph.h"

namespace ag {

namespace {

std::string index_str(const Shape& shape, std::int64_t flat) {
  Shape index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(index);
}

/// A numerical entry counts as nonzero above this fraction of atol: far above the rounding noise of
/// central differences in float64 (about 1e-10), far below any gradient the entry-wise check could miss.
constexpr double kNonzero = 1e-3;

bool close(double analytical, double numerical, const GradcheckOptions& o) {
  return std::abs(analytical - numerical) <= o.atol + o.rtol * std::abs(numerical);
}

/// Evaluates f without recording, returning the output values.
std::vector<double> evaluate(const GradcheckFn& f, const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  return f(inputs).to_vector();
}

/// The checker for one call: the function, its inputs, the output and the name used in reports.
struct Checker {
  const GradcheckFn& f;
  const std::vector<Tensor>& inputs;
  const GradcheckOptions& options;
  Tensor output;
  std::string op;
  std::vector<std::size_t> differentiable;  // indices of the inputs with requires_grad

  GradcheckResult failure(std::string message) const { return {false, fmt::format("gradcheck of {}: {}", op, message)}; }

  std::string where(std::size_t input, std::int64_t element) const {
    return fmt::format("input {} {} element {} {}", input, shape_str(inputs[input].shape()), element,
                       index_str(inputs[input].shape(), element));
  }

  /// dL/d(inputs) for L = sum(weights * output), as one vector per differentiable input (zeros where none).
  std::vector<std::vector<double>> vjp(const Tensor& weights) const {
    std::vector<Tensor> targets;
    for (auto i : differentiable) targets.push_back(inputs[i]);
    std::vector<std::vector<double>> out;
    if (!output.requires_grad()) {
      for (auto i : differentiable) out.emplace_back(static_cast<std::size_t>(inputs[i].numel()), 0.0);
      return out;
    }
    const auto grads = grad(output, targets, weights, /*retain_graph=*/true);
    for (std::size_t k = 0; k < grads.size(); ++k)
      out.push_back(grads[k].defined() ? grads[k].to_vector()
                                       : std::vector<double>(static_cast<std::size_t>(targets[k].numel()), 0.0));
    return out;
  }

  /// Central difference of the output when input `i` moves by eps along `direction` (values of its shape).
  /// The moved input is a copy: the inputs themselves, which the output's graph saved, are never written.
  std::vector<double> directional(std::size_t i, const std::vector<double>& direction) const {
    std::vector<Tensor> moved = inputs;
    moved[i] = inputs[i].detach().clone();
    double* p = moved[i].mutable_data<double>();
    const double* x = inputs[i].data<double>();
    const auto n = static_cast<std::size_t>(inputs[i].numel());
    for (std::size_t e = 0; e < n; ++e) p[e] = x[e] + options.eps * direction[e];
    const auto plus = evaluate(f, moved);
    for (std::size_t e = 0; e < n; ++e) p[e] = x[e] - options.eps * direction[e];
    const auto minus = evaluate(f, moved);
    std::vector<double> d(plus.size());
    for (std::size_t o = 0; o < d.size(); ++o) d[o] = (plus[o] - minus[o]) / (2 * options.eps);
    return d;
  }

  GradcheckResult full_jacobian() const {
    const std::int64_t n_out = output.numel();
    // Analytical Jacobian, row by row (one backward per output element), computed twice.
    std::vector<std::vector<std::vector<double>>> rows[2];  // [pass][output element][input k][element]
    for (int pass = 0; pass < 2; ++pass)
      for (std::int64_t o = 0; o < n_out; ++o) {
        Tensor onehot = zeros(output.shape(), DType::f64);
        onehot.mutable_data<double>()[o] = 1.0;
        rows[pass].push_back(vjp(onehot));
      }
    for (std::size_t k = 0; k < differentiable.size(); ++k) {
      const std::size_t i = differentiable[k];
      const std::int64_t n_in = inputs[i].numel();
      bool analytical_all_zero = true, numerical_all_zero = true;
      std::string first_nonzero;
      for (std::int64_t e = 0; e < n_in; ++e) {
        std::vector<double> direction(static_cast<std::size_t>(n_in), 0.0);
        direction[static_cast<std::size_t>(e)] = 1.0;
        const auto column = directional(i, direction);
        for (std::int64_t o = 0; o < n_out; ++o) {
          const double a = rows[0][static_cast<std::size_t>(o)][k][static_cast<std::size_t>(e)];
          const double a2 = rows[1][static_cast<std::size_t>(o)][k][static_cast<std::size_t>(e)];
          const double num = column[static_cast<std::size_t>(o)];
          if (a != a2)
            return failure(fmt::format("backward is not deterministic: {} output element {}: {:.10g} then {:.10g}",
                                       where(i, e), o, a, a2));
          if (a != 0) analytical_all_zero = false;
          if (std::abs(num) > kNonzero * options.atol && numerical_all_zero) {
            numerical_all_zero = false;
            first_nonzero = fmt::format("{} output element {}: numerical {:.10g}", where(i, e), o, num);
          }
          if (!close(a, num, options))
            return failure(fmt::format("Jacobian mismatch at {} output element {}: analytical {:.10g} vs numerical {:.10g}",
                                       where(i, e), o, a, num));
        }
      }
      if (analytical_all_zero && !numerical_all_zero)
        return failure(fmt::format("the analytical gradient is all zero but the numerical one is not ({})", first_nonzero));
    }
    return {};
  }

  GradcheckResult projections() const {
    Generator gen(options.seed);
    for (int trial = 0; trial < options.projections; ++trial) {
      Tensor v = normal(output.shape(), 0.0, 1.0, gen, DType::f64);
      const auto vjp1 = vjp(v);
      const auto vjp2 = vjp(v);
      if (vjp1 != vjp2) return failure("backward is not deterministic: two passes with the same v differ");
      const auto vs = v.to_vector();
      for (std::size_t k = 0; k < differentiable.size(); ++k) {
        const std::size_t i = differentiable[k];
        const auto u = normal(inputs[i].shape(), 0.0, 1.0, gen, DType::f64).to_vector();
        double analytical = 0, numerical = 0;
        for (std::size_t e = 0; e < u.size(); ++e) analytical += vjp1[k][e] * u[e];
        const auto d = directional(i, u);
        for (std::size_t o = 0; o < d.size(); ++o) numerical += vs[o] * d[o];
        if (!close(analytical, numerical, options))
          return failure(fmt::format("projection v^T J u mismatch for input {} {} (trial {}): analytical {:.10g} vs "
                                     "numerical {:.10g}",
                                     i, shape_str(inputs[i].shape()), trial, analytical, numerical));
      }
    }
    return {};
  }
};

}  // namespace

std::ostream& operator<<(std::ostream& out, const GradcheckResult& result) {
  return out << (result.passed ? std::string("gradcheck passed") : result.message);
}

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  std::vector<std::size_t> differentiable;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    if (inputs[i].dtype() != DType::f64)
      return {false, fmt::format("gradcheck: input {} {} is {}; gradcheck needs float64 inputs", i,
                                 shape_str(inputs[i].shape()), dtype_name(inputs[i].dtype()))};
    differentiable.push_back(i);
  }
  if (differentiable.empty()) return {false, "gradcheck: no input requires a gradient"};
  Tensor output = f(inputs);
  if (output.dtype() != DType::f64)
    return {false, fmt::format("gradcheck: the function returned a {} tensor; it must compute in float64",
                               dtype_name(output.dtype()))};
  std::string op = !options.name.empty() ? options.name : output.grad_fn() ? output.grad_fn()->name : "function";
  const Checker checker{f, inputs, options, output, op, differentiable};
  return options.fast_mode ? checker.projections() : checker.full_jacobian();
}

}  // namespace ag
