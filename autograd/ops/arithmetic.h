#pragma once
/// Elementwise arithmetic with NumPy broadcasting: add, sub, mul, div, neg, their scalar forms, operators.
#include "autograd/tensor.h"

namespace ag {

/// Returns a + b; shapes broadcast (e.g. [N,C] + [C] -> [N,C]).
Tensor add(const Tensor& a, const Tensor& b);
/// Returns a - b; shapes broadcast.
Tensor sub(const Tensor& a, const Tensor& b);
/// Returns a * b elementwise; shapes broadcast.
Tensor mul(const Tensor& a, const Tensor& b);
/// Returns a / b elementwise; shapes broadcast.
Tensor div(const Tensor& a, const Tensor& b);
/// Returns -x, same shape.
Tensor neg(const Tensor& x);

/// Returns x + s, same shape.
Tensor add(const Tensor& x, double s);
/// Returns x * s, same shape.
Tensor mul(const Tensor& x, double s);
/// Returns s - x, same shape.
Tensor rsub(double s, const Tensor& x);
/// Returns s / x, same shape.
Tensor rdiv(double s, const Tensor& x);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double s) { return add(x, s); }
inline Tensor operator+(double s, const Tensor& x) { return add(x, s); }
inline Tensor operator-(const Tensor& x, double s) { return add(x, -s); }
inline Tensor operator-(double s, const Tensor& x) { return rsub(s, x); }
inline Tensor operator*(const Tensor& x, double s) { return mul(x, s); }
inline Tensor operator*(double s, const Tensor& x) { return mul(x, s); }
inline Tensor operator/(const Tensor& x, double s) { return mul(x, 1.0 / s); }
inline Tensor operator/(double s, const Tensor& x) { return rdiv(s, x); }

}  // namespace ag
