#pragma once
/// Each activation's value and gradient rule as element functions, shared by the activation ops and by the
/// kernels that apply an activation to their output as they write it (a fused epilogue). Every gradient is
/// written in terms of the output y, which both keep.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/fast_math.h"

namespace ag::kernels {

/// An activation applied elementwise (ag::Activation, for the kernels).
enum class Activation { none, relu, tanh, scaled_tanh, sigmoid };

/// The constants of LeNet-5's squashing function f(a) = A tanh(S a): f(1) = 1, f(-1) = -1.
inline constexpr double kScaledTanhA = 1.7159;
inline constexpr double kScaledTanhS = 2.0 / 3.0;

/// tanh in the element type: the vectorisable float32 form for training, libm for float64 (gradcheck).
template <class T>
T tanh_of(T v) {
  if constexpr (std::is_same_v<T, float>) return fast_tanhf(v);
  else return std::tanh(v);
}

/// e^v in the element type, as tanh_of.
template <class T>
T exp_of(T v) {
  if constexpr (std::is_same_v<T, float>) return fast_expf(v);
  else return std::exp(v);
}

// y = max(x, 0);  dL/dx = dL/dy where x > 0 (equivalently y > 0), else 0: the subgradient at 0 is 0.
struct ReluRule {
  // v < 0 ? 0 : v rather than v > 0 ? v : 0, so that a NaN passes through instead of becoming 0.
  template <class T>
  static T value(T v) { return v < 0 ? T(0) : v; }
  template <class T>
  static T gradient(T g, T y) { return y > 0 ? g : T(0); }
};

// y = tanh x;  dL/dx = dL/dy (1 - y^2)
struct TanhRule {
  template <class T>
  static T value(T v) { return tanh_of(v); }
  template <class T>
  static T gradient(T g, T y) { return g * (1 - y * y); }
};

// y = A tanh(S x);  dy/dx = A S (1 - tanh^2(S x)) = A S (1 - (y/A)^2) = (S/A) (A^2 - y^2)
struct ScaledTanhRule {
  template <class T>
  static T value(T v) { return static_cast<T>(kScaledTanhA) * tanh_of(static_cast<T>(kScaledTanhS) * v); }
  template <class T>
  static T gradient(T g, T y) {
    constexpr T a2 = static_cast<T>(kScaledTanhA * kScaledTanhA);
    constexpr T s_over_a = static_cast<T>(kScaledTanhS / kScaledTanhA);
    return g * s_over_a * (a2 - y * y);
  }
};

// y = 1 / (1 + e^-x);  dL/dx = dL/dy y (1 - y)
struct SigmoidRule {
  // 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0, both from e^-|x|, so nothing overflows.
  template <class T>
  static T value(T v) {
    const T e = exp_of(v < 0 ? v : -v);  // e^-|v| <= 1: never overflows
    const T y = v >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
    return v == v ? y : v;  // NaN in, NaN out
  }
  template <class T>
  static T gradient(T g, T y) { return g * y * (1 - y); }
};

/// Calls body(Rule{}) with the rule of `activation` (not none), so that loops are compiled per rule.
template <class Body>
void with_rule(Activation activation, Body&& body) {
  switch (activation) {
    case Activation::relu:
      return body(ReluRule{});
    case Activation::tanh:
      return body(TanhRule{});
    case Activation::scaled_tanh:
      return body(ScaledTanhRule{});
    case Activation::sigmoid:
      return body(SigmoidRule{});
    case Activation::none:
      return;
  }
}

/// p[i] = f(p[i]) for i < n, f the activation (none leaves p as it is).
template <class T>
void activate_in_place(Activation activation, T* p, std::int64_t n) {
  with_rule(activation, [=](auto rule) {
    for (std::int64_t i = 0; i < n; ++i) p[i] = decltype(rule)::value(p[i]);
  });
}

/// out[i] = g[i] f'(x[i]) written from the output y[i] = f(x[i]), for i < n (out may be g).
template <class T>
void activation_gradient(Activation activation, const T* y, const T* g, T* out, std::int64_t n) {
  with_rule(activation, [=](auto rule) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = decltype(rule)::gradient(g[i], y[i]);
  });
}

}  // namespace ag::kernels
