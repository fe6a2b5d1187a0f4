#pragma once
// Helpers for tests: seeded random float64 inputs that require gradients, kept away from kinks.
#include <autograd/autograd.h>

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

}  // namespace test
