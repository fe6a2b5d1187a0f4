#pragma once
/// Anomaly mode: find the first op whose result or gradient is NaN or Inf (off by default: it costs a scan).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "autograd/tensor.h"

namespace ag {

/// Returns true when every op checks its result, and every backward rule its gradients, for NaN and Inf.
bool anomaly_mode_enabled();
/// Turns anomaly mode on or off for this thread.
void set_anomaly_mode(bool enabled);

/// Watches a stream of float or double values for NaN and Inf without a branch, so that a loop that writes
/// values can check each one as it writes it and still vectorise. A value is NaN or Inf exactly when its
/// exponent bits are all set; the largest exponent field seen is all ones only then.
template <class T>
class FiniteScan {
 public:
  /// Takes one value into account.
  void see(T value) {
    Bits bits;
    std::memcpy(&bits, &value, sizeof bits);
    largest_ = std::max(largest_, static_cast<Bits>(bits & kExponent));
  }
  /// Returns true when every value seen so far is finite.
  bool all_finite() const { return largest_ != kExponent; }

 private:
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  static constexpr auto kExponent = static_cast<Bits>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  Bits largest_ = 0;
};

/// Returns true when every one of the n values at p is finite (no NaN, no Inf): one vectorised pass.
bool all_finite(const float* p, std::int64_t n);
/// Returns true when every one of the n values at p is finite (no NaN, no Inf): one vectorised pass.
bool all_finite(const double* p, std::int64_t n);

/// Throws ag::Error "<op>: <phase> produced NaN at element i of a [..] tensor" when `t` is not all finite.
void check_finite(std::string_view op, std::string_view phase, const Tensor& t);

/// Turns anomaly mode on while alive, then restores the previous setting.
class AnomalyModeGuard {
 public:
  AnomalyModeGuard() : previous_(anomaly_mode_enabled()) { set_anomaly_mode(true); }
  ~AnomalyModeGuard() { set_anomaly_mode(previous_); }
  AnomalyModeGuard(const AnomalyModeGuard&) = delete;
  AnomalyModeGuard& operator=(const AnomalyModeGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ag
