#pragma once
/// The kernel tests' inputs: n values uniform in [-1, 1), the same for the same seed.
#include <cstdint>
#include <random>
#include <vector>

/// Returns n values uniform in [-1, 1) from a Mersenne Twister seeded with `seed`, drawn in double.
template <class T>
std::vector<T> random_values(std::int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = static_cast<T>(uniform(gen));
  return v;
}
