#include "autograd/ops/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "autograd/graph.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/index.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape_ops.h"
#include "autograd/ops/softmax.h"
#include "autograd/ops/unary.h"

namespace ag {

namespace {

void check_class_target(std::string_view op, const Tensor& scores, const Tensor& target) {
  if (scores.dim() != 2 || target.dim() != 1 || target.dtype() != DType::i64 || target.size(0) != scores.size(0))
    fail(op, "expects scores [N,C] and an int64 target [N], got {} and {} {}", shape_str(scores.shape()),
         shape_str(target.shape()), dtype_name(target.dtype()));
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  check_class_target("cross_entropy", logits, target);
  return neg(mean(pick(log_softmax(logits, 1), target)));
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target) {
  if (prediction.shape() != target.shape())
    fail("mse_loss", "prediction {} and target {} differ in shape", shape_str(prediction.shape()),
         shape_str(target.shape()));
  return mean(square(sub(prediction, target)));
}

Tensor rbf_mle_loss(const Tensor& rbf_output, const Tensor& target) {
  check_class_target("rbf_mle_loss", rbf_output, target);
  return mean(pick(rbf_output, target));
}

// E = (1/N) sum_n ( y[n,t_n] + log(e^-j + sum_i e^-y[n,i]) );  dE/dy[n,k] = ([k = t_n] - e^-y[n,k] / Z_n) / N
// with Z_n = e^-j + sum_i e^-y[n,i]. One op rather than a dozen composed ones: at batch 1 their bookkeeping
// was a twentieth of a LeNet-5 training step. Each row is shifted by m_n = max(-j, max_i -y[n,i]), which
// cancels exactly, so that no exponential exceeds 1.
Tensor rbf_map_loss(const Tensor& rbf_output, const Tensor& target, double j) {
  check_class_target("rbf_map_loss", rbf_output, target);
  if (!std::isfinite(j) || j <= 0) fail("rbf_map_loss", "the constant j must be finite and > 0, got {}", j);
  const std::int64_t rows = rbf_output.size(0), classes = rbf_output.size(1);
  const std::int64_t* t = target.data<std::int64_t>();
  for (std::int64_t r = 0; r < rows; ++r)
    if (t[r] < 0 || t[r] >= classes)
      fail("rbf_map_loss", "target {} at row {} is out of range for scores {}", t[r], r, shape_str(rbf_output.shape()));
  // Returns the shift m and the shifted partition sum Z e^-m of row r.
  const auto partition = [j, classes](const auto* y) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(y)>>;
    T m = static_cast<T>(-j);
    for (std::int64_t c = 0; c < classes; ++c) m = std::max(m, -y[c]);
    T z = std::exp(static_cast<T>(-j) - m);
    for (std::int64_t c = 0; c < classes; ++c) z += std::exp(-y[c] - m);
    return std::pair{m, z};
  };
  Tensor out = empty({}, rbf_output.dtype());
  dispatch_floating(rbf_output.dtype(), "rbf_map_loss", [&](auto type) {
    using T = decltype(type);
    const T* y = rbf_output.data<T>();
    T total = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto [m, z] = partition(y + r * classes);
      total += y[r * classes + t[r]] + (m + std::log(z));
    }
    out.data<T>()[0] = rows > 0 ? total / static_cast<T>(rows) : std::numeric_limits<T>::quiet_NaN();
  });
  return record("rbf_map_loss", out, {rbf_output, target}, [partition](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor gy = empty(in[0].shape(), g.dtype());
    const std::int64_t rows = in[0].size(0), classes = in[0].size(1);
    const std::int64_t* t = in[1].data<std::int64_t>();
    dispatch_floating(g.dtype(), "rbf_map_loss backward", [&](auto type) {
      using T = decltype(type);
      const T* y = in[0].data<T>();
      T* d = gy.data<T>();
      const T scale = g.data<T>()[0] / static_cast<T>(rows);
      for (std::int64_t r = 0; r < rows; ++r) {
        const auto [m, z] = partition(y + r * classes);
        for (std::int64_t c = 0; c < classes; ++c)
          d[r * classes + c] = scale * ((c == t[r] ? T(1) : T(0)) - std::exp(-y[r * classes + c] - m) / z);
      }
    });
    return std::vector<Tensor>{gy, Tensor()};
  });
}

}  // namespace ag
