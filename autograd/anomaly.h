#pragma once
/// Anomaly mode: find the first op whose result or gradient is NaN or Inf (off by default: it costs a scan).
#include <cstdint>
#include <string_view>

#include "autograd/tensor.h"

namespace ag {

/// Returns true when every op checks its result, and every backward rule its gradients, for NaN and Inf.
bool anomaly_mode_enabled();
/// Turns anomaly mode on or off for this thread.
void set_anomaly_mode(bool enabled);

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
