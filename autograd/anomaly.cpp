#include "autograd/anomaly.h"

#include <cmath>

namespace ag {

namespace {
thread_local bool anomaly_mode = false;
}  // namespace

bool anomaly_mode_enabled() { return anomaly_mode; }
void set_anomaly_mode(bool enabled) { anomaly_mode = enabled; }

void check_finite(std::string_view op, std::string_view phase, const Tensor& t) {
  if (!t.defined() || t.dtype() == DType::i64) return;
  dispatch_floating(t.dtype(), op, [&](auto type) {
    using T = decltype(type);
    const T* p = t.data<T>();
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      if (!std::isfinite(p[i]))
        fail(op, "{} produced {} at element {} of a {} tensor", phase, std::isnan(p[i]) ? "NaN" : "Inf", i,
             shape_str(t.shape()));
    }
  });
}

}  // namespace ag
