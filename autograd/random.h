#pragma once
/// A seeded random generator: every random tensor and every shuffle takes one explicitly.
#include <cstdint>
#include <random>
#include <string>

namespace ag {

/// A 64-bit Mersenne Twister with explicit seeding and a serialisable state, so runs repeat bitwise.
class Generator {
 public:
  /// Creates a generator seeded with `seed`.
  explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}
  /// Returns the next raw 64 random bits.
  std::uint64_t next() { return engine_(); }
  /// Returns a uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Returns a uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Returns a standard normal sample (Box-Muller; the spare value is not cached, so the state stays simple).
  double normal();
  /// Returns a uniform integer in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n);
  /// Returns the full state as text (for checkpoints).
  std::string state() const;
  /// Restores a state returned by state(); throws ag::Error when the text is not one.
  void set_state(const std::string& text);

 private:
  std::mt19937_64 engine_;
};

}  // namespace ag
