#pragma once
/// Keeps optimizer moments, and the arithmetic of their updates, out of the subnormal range.
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

#if defined(__SSE__) || defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ag::nn {

/// The smallest magnitude a stored moment keeps: 1e8 times the smallest normal number (1.2e-30 for
/// float, 2.2e-300 for double), so that the moment times a learning rate >= 1e-8 is still normal.
template <class T>
inline constexpr T kMomentFloor = std::numeric_limits<T>::min() * T(1e8);

/// True where SubnormalsFlushed (below) sets the floating-point unit to flush subnormals, on x86: an update
/// run under it cannot store a subnormal moment, and the floor is not needed.
#if defined(__SSE__) || defined(__x86_64__)
inline constexpr bool kSubnormalsFlushed = true;
#else
inline constexpr bool kSubnormalsFlushed = false;
#endif

/// Returns x, or 0 when |x| < kMomentFloor<T> (NaN passes); returns x where kSubnormalsFlushed, for updates
/// run under SubnormalsFlushed. Branch-free, so update loops vectorise. (Its two comparisons and selects per
/// moment made Adam's loop over values in the L1 cache take 9.6 us per 48,000 elements instead of 5.3.)
template <class T>
inline T floor_moment(T x) {
  if constexpr (kSubnormalsFlushed) return x;
  return x < kMomentFloor<T> && x > -kMomentFloor<T> ? T(0) : x;
}

/// While alive, the calling thread's floating-point unit reads subnormal operands as 0 and writes 0 for
/// subnormal results (x86's DAZ and FTZ bits), as it was when made afterwards; elsewhere it does nothing.
///
/// Why: without it, the floor above keeps the stored moments normal, but not what an update computes on the
/// way; with it, nothing an update computes or stores is subnormal, so on x86, where every update runs under
/// it, the floor is not applied (kSubnormalsFlushed). A gradient below 1.1e-19 in magnitude (2^-63) has a
/// subnormal square: with a third of LeNet-5's C5 gradients at 1e-20, Adam's update took 20 us instead of 7
/// (measured), and training steps showed it now and then (29 us instead of 12 at batch 64). What it changes:
/// a value below 1.2e-38 (2^-126; float) becomes 0 inside the update. Such a term is below the rounding of any moment above kMomentFloor, a
/// moment below the floor is 0 anyway, and a weight's change below it moves no weight above 1e-31.
class SubnormalsFlushed {
 public:
#if defined(__SSE__) || defined(__x86_64__)
  SubnormalsFlushed() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~SubnormalsFlushed() { _mm_setcsr(saved_); }
#endif
  SubnormalsFlushed(const SubnormalsFlushed&) = delete;
  SubnormalsFlushed& operator=(const SubnormalsFlushed&) = delete;

 private:
#if defined(__SSE__) || defined(__x86_64__)
  static constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;  // MXCSR bits 15 and 6
  unsigned saved_;
#endif
};

}  // namespace ag::nn
