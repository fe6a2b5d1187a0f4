#pragma once
/// Keeps optimizer moments, and the arithmetic of their updates, out of the subnormal range.
///
/// Why: a moment of a parameter whose gradient stays 0 (a dead ReLU unit, a max-pool input that never
/// wins) decays geometrically: Adam's m by 0.9 a step reaches float's subnormals after about 800 steps,
/// SGD's velocity likewise, and there it stays: 0.9 times the smallest subnormal rounds back to itself,
/// so the moment never reaches 0. Arithmetic on subnormals takes a slow path on x86 cores, and so does an
/// update whose gradient's square is subnormal (a gradient below 2^-63 in magnitude): the update then runs
/// several times slower (docs/performance.md). So every update runs under ag::FlushSubnormals, where the
/// hardware can flush; elsewhere the stored moments are floored.
/// What it costs: nothing visible. A moment below the floor moves a weight by less than
/// lr * 1.2e-30 / eps (Adam, eps >= 1e-8: 1.2e-22 lr) or lr * 1.2e-30 (SGD), far below the rounding
/// of any weight above 1e-14 in magnitude; a value below 1.2e-38 (float) flushed to 0 inside an update is
/// below the rounding of any moment above the floor.
#include <limits>

#include "autograd/float_env.h"

namespace ag::nn {

/// The smallest magnitude a stored moment keeps: 1e8 times the smallest normal number (1.2e-30 for
/// float, 2.2e-300 for double), so that the moment times a learning rate >= 1e-8 is still normal.
template <class T>
inline constexpr T kMomentFloor = std::numeric_limits<T>::min() * T(1e8);

/// Returns x, or 0 when |x| < kMomentFloor<T> (NaN passes); returns x itself where the update runs with
/// subnormals flushed (ag::kFlushesSubnormals), which cannot store a subnormal moment. Branch-free, so that
/// update loops vectorise.
template <class T>
inline T floor_moment(T x) {
  if constexpr (kFlushesSubnormals) return x;
  return x < kMomentFloor<T> && x > -kMomentFloor<T> ? T(0) : x;
}

}  // namespace ag::nn
