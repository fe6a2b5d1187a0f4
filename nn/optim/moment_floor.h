#pragma once
/// Keeps optimizer moments out of the subnormal range.
///
/// Why: a moment of a parameter whose gradient stays 0 (a dead ReLU unit, a max-pool input that never
/// wins) decays geometrically: Adam's m by 0.9 a step reaches float's subnormals after about 800 steps,
/// SGD's velocity likewise, and there it stays: 0.9 times the smallest subnormal rounds back to itself,
/// so the moment never reaches 0. Arithmetic on subnormals takes a slow path on x86 cores: Adam's update of
/// LeNet-5 took 25 us instead of 11 (measured), a quarter of a batch-1 training step.
/// What it costs: nothing visible. A moment below the floor moves a weight by less than
/// lr * 1.2e-30 / eps (Adam, eps >= 1e-8: 1.2e-22 lr) or lr * 1.2e-30 (SGD), far below the rounding
/// of any weight above 1e-14 in magnitude.
#include <limits>

namespace ag::nn {

/// The smallest magnitude a stored moment keeps: 1e8 times the smallest normal number (1.2e-30 for
/// float, 2.2e-300 for double), so that the moment times a learning rate >= 1e-8 is still normal.
template <class T>
inline constexpr T kMomentFloor = std::numeric_limits<T>::min() * T(1e8);

/// Returns x, or 0 when |x| < kMomentFloor<T> (NaN passes). Branch-free, so update loops vectorise.
template <class T>
inline T floor_moment(T x) {
  return x < kMomentFloor<T> && x > -kMomentFloor<T> ? T(0) : x;
}

}  // namespace ag::nn
