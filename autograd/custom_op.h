#pragma once
/// Helpers for writing an op of your own. An op is a function that computes its result and calls
/// ag::record (autograd/graph.h) with its inputs and backward rule; these helpers only shorten what such
/// ops repeat: the dtype check, the elementwise loop over float and double, and the "does this input
/// need a gradient" test. docs/extending.md walks through a complete example.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/graph.h"

namespace ag {

/// Returns true when a backward rule should compute the gradient of inputs[i]: the input is defined and
/// requires a gradient. Otherwise the rule may return an undefined Tensor for it and skip the work.
inline bool needs_grad(const std::vector<Tensor>& inputs, std::size_t i) {
  return i < inputs.size() && inputs[i].defined() && inputs[i].requires_grad();
}

/// Throws ag::Error "<op>: expected a float32 or float64 tensor, got <shape> <dtype>" unless x is a
/// defined floating tensor (any shape).
inline void check_floating(std::string_view op, const Tensor& x) {
  if (!x.defined()) fail(op, "the input must be a defined tensor");
  if (x.dtype() != DType::f32 && x.dtype() != DType::f64)
    fail(op, "expected a float32 or float64 tensor, got {} {}", shape_str(x.shape()), dtype_name(x.dtype()));
}

/// Returns f(a[i], b[i]) for every element: a and b of one shape and one floating dtype, no broadcasting;
/// the result has that shape and dtype. f is generic over float and double: [](auto u, auto v) {...}.
/// Throws ag::Error naming `op` and both shapes and dtypes when they differ.
template <class F>
Tensor map_elements(std::string_view op, const Tensor& a, const Tensor& b, F f) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype())
    fail(op, "expected two tensors of one shape and dtype, got {} {} and {} {}", shape_str(a.shape()),
         dtype_name(a.dtype()), shape_str(b.shape()), dtype_name(b.dtype()));
  Tensor out = empty(a.shape(), a.dtype());
  dispatch_floating(a.dtype(), op, [&](auto type) {
    using T = decltype(type);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.mutable_data<T>();
    for (std::int64_t i = 0, n = a.numel(); i < n; ++i) po[i] = static_cast<T>(f(pa[i], pb[i]));
  });
  return out;
}

/// Returns f(x[i]) for every element: same shape and dtype as x (float32 or float64). f is generic over
/// float and double: [](auto v) {...}.
template <class F>
Tensor map_elements(std::string_view op, const Tensor& x, F f) {
  return map_elements(op, x, x, [&f](auto v, auto) { return f(v); });
}

/// Returns the elementwise op y = f(x) (any shape, float32 or float64), recorded in the graph as `name`
/// with the rule dL/dx = dL/dy * df(x) and the curvature rule D_x = df(x)^2 D_y. f and df are generic over
/// float and double, e.g.
/// unary_op("softsign", x, [](auto v) { return v / (1 + std::abs(v)); }, [](auto v) { ... });
/// Throws ag::Error naming `name`, the dtype and the shape for an undefined or int64 input.
template <class F, class DF>
Tensor unary_op(const std::string& name, const Tensor& x, F f, DF df) {
  check_floating(name, x);
  Tensor y = map_elements(name, x, f);
  // x [S], dL/dy [S] -> dL/dx [S] = dL/dy * df(x), elementwise.
  const BackwardFn backward = [name, df](const Tensor& grad_y, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{
        map_elements(name + " backward", grad_y, in[0], [&df](auto g, auto v) { return g * df(v); })};
  };
  // Curvature (Gauss-Newton): J = diag df(x), so D_x = df(x)^2 D_y [S].
  const CurvatureFn curvature = [name, df](const CurvatureInput& at) {
    return std::vector<Tensor>{map_elements(name + " curvature", at.curvature, at.inputs[0], [&df](auto d, auto v) {
      const auto slope = df(v);
      return d * slope * slope;
    })};
  };
  return record(name, y, {x}, Rules{backward, nullptr, curvature});
}

}  // namespace ag
