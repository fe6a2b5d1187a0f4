#include "autograd/ops/activation.h"

#include <cmath>
#include <type_traits>

#include "autograd/detail/elementwise.h"
#include "autograd/detail/fast_math.h"
#include "autograd/graph.h"

namespace ag {

using detail::map_binary;
using detail::map_unary;

namespace {

/// tanh in the element type: the vectorisable float32 form for training, libm for float64 (gradcheck).
template <class T>
T tanh_of(T v) {
  if constexpr (std::is_same_v<T, float>) return detail::fast_tanhf(v);
  else return std::tanh(v);
}

/// e^v in the element type, as tanh_of.
template <class T>
T exp_of(T v) {
  if constexpr (std::is_same_v<T, float>) return detail::fast_expf(v);
  else return std::exp(v);
}

}  // namespace

// y = tanh x;  dL/dx = dL/dy (1 - y^2)
Tensor tanh(const Tensor& x) {
  Tensor out = map_unary("tanh", x, [](auto v) { return tanh_of(v); });
  return record("tanh", out, {x}, [y = out.detach()](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{map_binary("tanh backward", g, y, [](auto gv, auto yv) { return gv * (1 - yv * yv); })};
  });
}

// y = A tanh(S x);  dy/dx = A S (1 - tanh^2(S x)) = A S (1 - (y/A)^2) = (S/A) (A^2 - y^2)
Tensor scaled_tanh(const Tensor& x) {
  Tensor out = map_unary("scaled_tanh", x, [](auto v) {
    using T = decltype(v);
    return static_cast<T>(kScaledTanhA) * tanh_of(static_cast<T>(kScaledTanhS) * v);
  });
  return record("scaled_tanh", out, {x}, [y = out.detach()](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{map_binary("scaled_tanh backward", g, y, [](auto gv, auto yv) {
      using T = decltype(yv);
      constexpr T a2 = static_cast<T>(kScaledTanhA * kScaledTanhA);
      constexpr T s_over_a = static_cast<T>(kScaledTanhS / kScaledTanhA);
      return gv * s_over_a * (a2 - yv * yv);
    })};
  });
}

// y = 1 / (1 + e^-x);  dL/dx = dL/dy y (1 - y)
Tensor sigmoid(const Tensor& x) {
  // 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0, both from e^-|x|, so nothing overflows.
  Tensor out = map_unary("sigmoid", x, [](auto v) {
    using T = decltype(v);
    const T e = exp_of(v < 0 ? v : -v);  // e^-|v| <= 1: never overflows
    const T y = v >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
    return v == v ? y : v;  // NaN in, NaN out
  });
  return record("sigmoid", out, {x}, [y = out.detach()](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{map_binary("sigmoid backward", g, y, [](auto gv, auto yv) { return gv * yv * (1 - yv); })};
  });
}

// y = max(x, 0);  dL/dx = dL/dy where x > 0, else 0 (the subgradient chosen at the kink x = 0 is 0)
Tensor relu(const Tensor& x) {
  // v < 0 ? 0 : v rather than v > 0 ? v : 0, so that a NaN passes through instead of becoming 0.
  Tensor out = map_unary("relu", x, [](auto v) { return v < 0 ? decltype(v)(0) : v; });
  return record("relu", out, {x}, [](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{map_binary("relu backward", g, in[0], [](auto gv, auto xv) {
      return xv > 0 ? gv : decltype(gv)(0);
    })};
  });
}

}  // namespace ag
