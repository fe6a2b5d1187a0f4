#include "autograd/ops/loss.h"

#include <algorithm>
#include <cmath>

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

Tensor rbf_map_loss(const Tensor& rbf_output, const Tensor& target, double j) {
  check_class_target("rbf_map_loss", rbf_output, target);
  if (!std::isfinite(j) || j <= 0) fail("rbf_map_loss", "the constant j must be finite and > 0, got {}", j);
  const std::int64_t rows = rbf_output.size(0), classes = rbf_output.size(1);
  // log(e^-j + sum_i e^-y_i) = m + log(e^(-j-m) + sum_i e^(-y_i-m)) for any constant m; taking m as the
  // row's largest exponent keeps every exp <= 1. m is held constant (no gradient): it cancels exactly.
  const Tensor y = rbf_output.detach();
  Tensor shift = empty({rows, 1}, y.dtype());
  for (std::int64_t r = 0; r < rows; ++r) {
    double m = -j;
    for (std::int64_t c = 0; c < classes; ++c) m = std::max(m, -y.at({r, c}));
    shift.set({r, 0}, m);
  }
  const Tensor neg_y = neg(rbf_output);
  const Tensor rubbish = exp(rsub(-j, shift));  // e^(-j-m), [N,1]
  const Tensor total = add(sum(exp(sub(neg_y, shift)), 1), reshape(rubbish, {rows}));
  const Tensor log_partition = add(log(total), reshape(shift, {rows}));
  return mean(add(pick(rbf_output, target), log_partition));
}

}  // namespace ag
