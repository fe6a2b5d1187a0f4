#include "autograd/ops/arithmetic.h"

#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/elementwise.h"
#include "autograd/graph.h"
#include "autograd/ops/broadcast.h"
#include "autograd/ops/unary.h"

namespace ag {

namespace {

using internal::map_binary;
using internal::map_unary;

/// A broadcast input's gradient: the upstream gradient summed back to the input's shape (or none).
Tensor reduce_for(const Tensor& input, const Tensor& g) {
  return input.requires_grad() ? sum_to(g, input.shape()) : Tensor();
}

/// The curvature rule of y = a - b (and of add): J entries are +-1, so both get D summed to their shape.
std::vector<Tensor> plus_minus_curvature(const CurvatureInput& at) {
  return {reduce_for(at.inputs[0], at.curvature), reduce_for(at.inputs[1], at.curvature)};
}

/// The curvature rule of y = -x and y = s - x: J = -I, so D_x = D_y.
std::vector<Tensor> negated_curvature(const CurvatureInput& at) { return {at.curvature}; }

}  // namespace

// y = a + b;  dL/da = dL/dy,  dL/db = dL/dy  (each summed over its broadcast dimensions)
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary("add", a, b, [](auto x, auto y) { return x + y; });
  return record("add", out, {a, b}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{reduce_for(in[0], g), reduce_for(in[1], g)};
  }), plus_minus_curvature), {});
}

// y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy
Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary("sub", a, b, [](auto x, auto y) { return x - y; });
  return record("sub", out, {a, b}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{reduce_for(in[0], g), in[1].requires_grad() ? reduce_for(in[1], neg(g)) : Tensor()};
  }), plus_minus_curvature), {});
}

// y = a * b;  dL/da = dL/dy * b,  dL/db = dL/dy * a
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary("mul", a, b, [](auto x, auto y) { return x * y; });
  // Curvature: D_a = D_y b^2, D_b = D_y a^2 (each summed over its broadcast dimensions).
  const auto curvature = [](const CurvatureInput& at) {
    const Tensor &a_in = at.inputs[0], &b_in = at.inputs[1];
    return std::vector<Tensor>{a_in.requires_grad() ? reduce_for(a_in, mul(at.curvature, square(b_in))) : Tensor(),
                               b_in.requires_grad() ? reduce_for(b_in, mul(at.curvature, square(a_in))) : Tensor()};
  };
  return record("mul", out, {a, b}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].requires_grad() ? reduce_for(in[0], mul(g, in[1])) : Tensor(),
                               in[1].requires_grad() ? reduce_for(in[1], mul(g, in[0])) : Tensor()};
  }), curvature));
}

// y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * a / b^2
// Curvature (y's shape, broadcast): D_a = D_y / b^2, D_b = D_y a^2 / b^4, each summed to its input's shape
// (an element broadcast over several outputs gets the sum of their J^2 D).
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = map_binary("div", a, b, [](auto x, auto y) { return x / y; });
  const auto curvature = [](const CurvatureInput& at) {
    const Tensor& a_in = at.inputs[0];
    const Tensor& b_in = at.inputs[1];
    const Tensor over_b2 =
        map_binary("div curvature", at.curvature, b_in, [](auto dv, auto bv) { return dv / (bv * bv); });
    Tensor db;
    if (b_in.requires_grad()) {
      const Tensor ratio = map_binary("div curvature", a_in, b_in, [](auto av, auto bv) { return av / bv; });
      db = reduce_for(b_in, map_binary("div curvature", over_b2, ratio, [](auto dv, auto qv) { return dv * qv * qv; }));
    }
    return std::vector<Tensor>{reduce_for(a_in, over_b2), db};
  };
  return record("div", out, {a, b}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor ga, gb;
    if (in[0].requires_grad()) ga = reduce_for(in[0], div(g, in[1]));
    if (in[1].requires_grad()) gb = reduce_for(in[1], neg(div(mul(g, in[0]), mul(in[1], in[1]))));
    return std::vector<Tensor>{ga, gb};
  }), curvature));
}

// y = -x;  dL/dx = -dL/dy
Tensor neg(const Tensor& x) {
  Tensor out = map_unary("neg", x, [](auto v) { return -v; });
  return record("neg", out, {x}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{neg(g)};
  }), negated_curvature), {});
}

// y = x + s;  dL/dx = dL/dy
Tensor add(const Tensor& x, double s) {
  Tensor out = map_unary("add", x, [s](auto v) { return v + static_cast<decltype(v)>(s); });
  return record("add_scalar", out, {x}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{g};
  }), internal::route_curvature), {});
}

// y = x * s;  dL/dx = s dL/dy
Tensor mul(const Tensor& x, double s) {
  Tensor out = map_unary("mul", x, [s](auto v) { return v * static_cast<decltype(v)>(s); });
  // Curvature: D_x = s^2 D_y.
  const auto curvature = [s](const CurvatureInput& at) { return std::vector<Tensor>{mul(at.curvature, s * s)}; };
  return record("mul_scalar", out, {x}, with_curvature(composed([s](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{mul(g, s)};
  }), curvature), {});
}

// y = s - x;  dL/dx = -dL/dy
Tensor rsub(double s, const Tensor& x) {
  Tensor out = map_unary("rsub", x, [s](auto v) { return static_cast<decltype(v)>(s) - v; });
  return record("rsub_scalar", out, {x}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{neg(g)};
  }), negated_curvature), {});
}

// y = s / x;  dL/dx = -dL/dy * s / x^2 = -dL/dy * y / x;  curvature D_x = D_y (y / x)^2
Tensor rdiv(double s, const Tensor& x) {
  Tensor out = map_unary("rdiv", x, [s](auto v) { return static_cast<decltype(v)>(s) / v; });
  const Tensor y = out.detach();  // the output, which the rule reads
  // The recorded rule, -dL/dy * s / x^2, reads x alone: the saved y is no function of x in the graph.
  const auto recorded = [s](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{neg(div(mul(g, s), square(in[0])))};
  };
  const auto curvature = [](const CurvatureInput& at) {
    const Tensor slope =  // saved[0] is y: record keeps x, an input, among the inputs rather than in saved
        map_binary("rdiv curvature", at.saved[0], at.inputs[0], [](auto yv, auto xv) { return yv / xv; });
    return std::vector<Tensor>{
        map_binary("rdiv curvature", at.curvature, slope, [](auto dv, auto sv) { return dv * sv * sv; })};
  };
  return record("rdiv_scalar", out, {x}, Rules{[y](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{neg(div(mul(g, y), in[0]))};
  }, recorded, curvature}, {x, y});
}

}  // namespace ag
