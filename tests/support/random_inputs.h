#pragma once
// Helpers for tests: seeded random float64 inputs that require gradients, kept away from kinks; a central
// difference of a loss in one parameter element.
#include <autograd/autograd.h>

#include <initializer_list>
#include <vector>

namespace test {

/// Returns a float64 leaf of `shape`, uniform in [lo, hi), requiring a gradient.
inline ag::Tensor param(const ag::Shape& shape, ag::Generator& gen, double lo = -1.0, double hi = 1.0) {
  ag::Tensor t = ag::uniform(shape, lo, hi, gen, ag::DType::f64);
  t.requires_grad_();
  return t;
}

/// Returns a float64 leaf whose values have magnitude in [0.1, 1) with random sign: away from 0,
/// where relu and the like have a kink.
inline ag::Tensor param_away_from_zero(const ag::Shape& shape, ag::Generator& gen) {
  ag::Tensor t = ag::uniform(shape, 0.1, 1.0, gen, ag::DType::f64);
  double* p = t.mutable_data<double>();
  for (std::int64_t i = 0; i < t.numel(); ++i)
    if (gen.uniform() < 0.5) p[i] = -p[i];
  t.requires_grad_();
  return t;
}

/// Returns a random int64 class-index tensor [n] with values in 0..classes-1.
inline ag::Tensor classes(std::int64_t n, std::int64_t classes, ag::Generator& gen) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (auto& c : v) c = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(classes)));
  return ag::from_indices(v, {n});
}

/// Returns a random shape of `rank` with each dimension in 1..max_dim.
inline ag::Shape random_shape(std::size_t rank, ag::Generator& gen, std::int64_t max_dim = 4) {
  ag::Shape s(rank);
  for (auto& d : s) d = 1 + static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(max_dim)));
  return s;
}

/// Returns the central difference (f(w + eps) - f(w - eps)) / (2 eps) of `loss` (a function returning a
/// one-element tensor) in element `index` of the float64 parameter `weight`, which it leaves as it found it.
template <class Loss>
double central_difference(ag::Tensor& weight, std::initializer_list<std::int64_t> index, Loss&& loss,
                          double eps = 1e-6) {
  const double start = weight.at(index);
  double sides[2];
  for (const int side : {0, 1}) {
    const ag::NoGradGuard no_grad;  // a parameter is written outside grad mode
    weight.set(index, start + (side == 0 ? eps : -eps));
    sides[side] = loss().item();
  }
  const ag::NoGradGuard no_grad;
  weight.set(index, start);
  return (sides[0] - sides[1]) / (2 * eps);
}

}  // namespace test
