#include "autograd/ops/unary.h"

#include <cmath>

#include "autograd/ops/internal/elementwise.h"
#include "autograd/graph.h"
#include "autograd/ops/arithmetic.h"

namespace ag {

using internal::map_binary;
using internal::map_unary;

// Curvature rules (Gauss-Newton, elementwise, every tensor of x's shape): J = diag f'(x), so
// D_x = f'(x)^2 D_y, read from the same tensors the gradient reads.

// y = e^x;  dL/dx = dL/dy * y;  curvature D_x = y^2 D_y
Tensor exp(const Tensor& x) {
  Tensor out = map_unary("exp", x, [](auto v) { return std::exp(v); });
  const Tensor y = out.detach();  // the output, which the rule reads
  const auto fast = [y](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{map_binary("exp backward", g, y, [](auto gv, auto yv) { return gv * yv; })};
  };
  const auto recorded = [](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{mul(g, exp(in[0]))};  // y recomputed from x, so that it carries x's graph
  };
  const auto curvature = [](const CurvatureInput& at) {
    return std::vector<Tensor>{
        map_binary("exp curvature", at.curvature, at.saved[0], [](auto dv, auto yv) { return dv * yv * yv; })};
  };
  return record("exp", out, {x}, Rules{fast, recorded, curvature}, {y});
}

// y = ln x;  dL/dx = dL/dy / x;  curvature D_x = D_y / x^2
Tensor log(const Tensor& x) {
  Tensor out = map_unary("log", x, [](auto v) { return std::log(v); });
  const auto fast = [](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{map_binary("log backward", g, in[0], [](auto gv, auto xv) { return gv / xv; })};
  };
  const auto recorded = [](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{div(g, in[0])};
  };
  const auto curvature = [](const CurvatureInput& at) {
    return std::vector<Tensor>{
        map_binary("log curvature", at.curvature, at.inputs[0], [](auto dv, auto xv) { return dv / (xv * xv); })};
  };
  return record("log", out, {x}, Rules{fast, recorded, curvature});
}

// y = x^p;  dL/dx = dL/dy * p x^(p-1);  curvature D_x = D_y (p x^(p-1))^2
Tensor pow(const Tensor& x, double p) {
  Tensor out = map_unary("pow", x, [p](auto v) { return std::pow(v, static_cast<decltype(v)>(p)); });
  const auto fast = [p](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{map_binary("pow backward", g, in[0], [p](auto gv, auto xv) {
      using T = decltype(xv);
      return gv * static_cast<T>(p) * std::pow(xv, static_cast<T>(p - 1));
    })};
  };
  const auto recorded = [p](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{mul(g, mul(pow(in[0], p - 1), p))};
  };
  const auto curvature = [p](const CurvatureInput& at) {
    return std::vector<Tensor>{map_binary("pow curvature", at.curvature, at.inputs[0], [p](auto dv, auto xv) {
      using T = decltype(xv);
      const T slope = static_cast<T>(p) * std::pow(xv, static_cast<T>(p - 1));
      return dv * slope * slope;
    })};
  };
  return record("pow", out, {x}, Rules{fast, recorded, curvature});
}

// y = x^2;  dL/dx = dL/dy * 2x;  curvature D_x = 4 x^2 D_y
Tensor square(const Tensor& x) {
  Tensor out = map_unary("square", x, [](auto v) { return v * v; });
  const auto fast = [](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{map_binary("square backward", g, in[0], [](auto gv, auto xv) { return 2 * gv * xv; })};
  };
  const auto recorded = [](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{mul(mul(g, in[0]), 2.0)};
  };
  const auto curvature = [](const CurvatureInput& at) {
    return std::vector<Tensor>{
        map_binary("square curvature", at.curvature, at.inputs[0], [](auto dv, auto xv) { return 4 * dv * xv * xv; })};
  };
  return record("square", out, {x}, Rules{fast, recorded, curvature});
}

// y = sqrt(x);  dL/dx = dL/dy / (2y);  curvature D_x = D_y / (4 y^2)
Tensor sqrt(const Tensor& x) {
  Tensor out = map_unary("sqrt", x, [](auto v) { return std::sqrt(v); });
  const Tensor y = out.detach();  // the output, which the rule reads
  const auto fast = [y](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{map_binary("sqrt backward", g, y, [](auto gv, auto yv) { return gv / (2 * yv); })};
  };
  const auto recorded = [](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{div(g, mul(sqrt(in[0]), 2.0))};
  };
  const auto curvature = [](const CurvatureInput& at) {
    return std::vector<Tensor>{
        map_binary("sqrt curvature", at.curvature, at.saved[0], [](auto dv, auto yv) { return dv / (4 * yv * yv); })};
  };
  return record("sqrt", out, {x}, Rules{fast, recorded, curvature}, {y});
}

}  // namespace ag
