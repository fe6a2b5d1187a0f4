#include "autograd/anomaly.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ag {

namespace {
thread_local bool anomaly_mode = false;
}  // namespace

bool anomaly_mode_enabled() { return anomaly_mode; }
void set_anomaly_mode(bool enabled) { anomaly_mode = enabled; }

namespace {

/// Returns true when every one of the n values at p is finite. One pass without a branch, on the bits, so that
/// the compiler vectorises it: trainers check every parameter after every step, and the scan must cost little
/// beside the step. A value is NaN or Inf exactly when its exponent bits are all set; the largest exponent field
/// seen is all ones only then.
template <class T>
bool all_values_finite(const T* p, std::int64_t n) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr auto exponent = static_cast<Bits>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  Bits largest = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    Bits bits;
    std::memcpy(&bits, p + i, sizeof bits);
    largest = std::max(largest, static_cast<Bits>(bits & exponent));
  }
  return largest != exponent;
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
