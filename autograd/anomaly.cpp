#include "autograd/anomaly.h"

#include <cmath>
#include <cstdint>

namespace ag {

namespace {
thread_local bool anomaly_mode = false;
}  // namespace

bool anomaly_mode_enabled() { return anomaly_mode; }
void set_anomaly_mode(bool enabled) { anomaly_mode = enabled; }

namespace {

/// Returns true when every one of the n values at p is finite. One pass without a branch (FiniteScan), so that
/// the compiler vectorises it: anomaly mode checks every result, and the scan must cost little beside the op.
template <class T>
bool all_values_finite(const T* p, std::int64_t n) {
  FiniteScan<T> scan;
  for (std::int64_t i = 0; i < n; ++i) scan.see(p[i]);
  return scan.all_finite();
}

}  // namespace

bool all_finite(const float* p, std::int64_t n) { return all_values_finite(p, n); }
bool all_finite(const double* p, std::int64_t n) { return all_values_finite(p, n); }

void check_finite(std::string_view op, std::string_view phase, const Tensor& t) {
  if (!t.defined() || t.dtype() == DType::i64) return;
  dispatch_floating(t.dtype(), op, [&](auto type) {
    using T = decltype(type);
    const T* p = t.data<T>();
    const std::int64_t n = t.numel();
    if (all_finite(p, n)) return;
    for (std::int64_t i = 0; i < n; ++i) {  // the first value at fault, for the message
      if (!std::isfinite(p[i]))
        fail(op, "{} produced {} at element {} of a {} tensor", phase, std::isnan(p[i]) ? "NaN" : "Inf", i,
             shape_str(t.shape()));
    }
  });
}

}  // namespace ag
