#include "autograd/ops/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "autograd/ops/internal/elementwise.h"
#include "autograd/ops/internal/logsumexp.h"
#include "autograd/graph.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/broadcast.h"
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

/// Throws naming `op`, the row and the scores' shape when a target is not a class index of `scores`.
void check_target_range(std::string_view op, const Tensor& scores, const Tensor& target) {
  const std::int64_t* t = target.data<std::int64_t>();
  for (std::int64_t r = 0; r < target.size(0); ++r)
    if (t[r] < 0 || t[r] >= scores.size(1))
      fail(op, "target {} at row {} is out of range for scores {}", t[r], r, shape_str(scores.shape()));
}

/// Returns the one-hot rows [N,C] of class targets [N] (int64, each within 0..C-1), in `dtype`.
Tensor one_hot(const Tensor& target, std::int64_t classes, DType dtype) {
  Tensor out = zeros({target.size(0), classes}, dtype);
  const std::int64_t* t = target.data<std::int64_t>();
  dispatch_floating(dtype, "one_hot", [&](auto type) {
    using T = decltype(type);
    for (std::int64_t r = 0; r < target.size(0); ++r) out.mutable_data<T>()[r * classes + t[r]] = T(1);
  });
  return out;
}

/// The curvature rule of a loss E (one element) of inputs x: D_x = dL/dE H + D_E (dE/dx)^2 (x's shape), with
/// H = diag d2E/dx2 the loss's own second derivative. The first term seeds the pass: the loss is where the
/// Gauss-Newton matrix J^T H J gets its H, so its second derivative is kept, exactly on the diagonal (the
/// off-diagonal terms of H, such as softmax's -p_i p_k, are dropped, as the diagonal pass drops them at every
/// op). The second is Gauss-Newton's term for a loss whose value is used further on (zero at the root). The
/// gradient dE/dx is the loss's backward rule run on dL/dE = 1.
Tensor loss_curvature(const CurvatureInput& at, const Tensor& hessian_diagonal) {
  const Tensor slope = at.backward(ones_like(at.gradient), at.inputs)[0];
  return add(mul(hessian_diagonal, at.gradient.item()), mul(square(slope), at.curvature.item()));
}

/// The op `name`: E = (1/N) sum_n row_loss(scores[n,:], t_n) for scores [N,C] and class targets [N] (checked
/// by the caller), with the rule dE/dscores[n,:] = row_gradient(scores[n,:], t_n, dL/dE / N, out[n,:]),
/// `recorded`, the same rule written with ops for create_graph passes, and `curvature`, its curvature rule. Both
/// are generic over float and double: [](const auto* row, std::int64_t t) {...} returning the row's term, and
/// [](const auto* row, std::int64_t t, auto scale, auto* out) {...} writing its C gradients. The rule
/// recomputes what it needs from the scores: a row is C values, and nothing is kept between the passes.
template <class RowLoss, class RowGradient>
Tensor mean_row_loss(const std::string& name, const Tensor& scores, const Tensor& target, RowLoss row_loss,
                     RowGradient row_gradient, BackwardFn recorded, CurvatureFn curvature) {
  const std::int64_t rows = scores.size(0), classes = scores.size(1);
  const std::int64_t* t = target.data<std::int64_t>();
  Tensor out = empty({}, scores.dtype());
  dispatch_floating(scores.dtype(), name, [&](auto type) {
    using T = decltype(type);
    const T* x = scores.data<T>();
    T total = 0;
    for (std::int64_t r = 0; r < rows; ++r) total += row_loss(x + r * classes, t[r]);
    out.mutable_data<T>()[0] = rows > 0 ? total / static_cast<T>(rows) : std::numeric_limits<T>::quiet_NaN();
  });
  const auto fast = [name, row_gradient](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor gx = empty(in[0].shape(), g.dtype());
    const std::int64_t rows = in[0].size(0), classes = in[0].size(1);
    const std::int64_t* t = in[1].data<std::int64_t>();
    dispatch_floating(g.dtype(), name + " backward", [&](auto type) {
      using T = decltype(type);
      const T* x = in[0].data<T>();
      T* d = gx.mutable_data<T>();
      const T scale = g.data<T>()[0] / static_cast<T>(rows);
      for (std::int64_t r = 0; r < rows; ++r) row_gradient(x + r * classes, t[r], scale, d + r * classes);
    });
    return std::vector<Tensor>{gx, Tensor()};
  };
  return record(name, out, {scores, target}, Rules{fast, std::move(recorded), std::move(curvature)});
}

}  // namespace

// E = (1/N) sum_n (lse_n - x[n,t_n]) with lse_n = log sum_c e^x[n,c];
// dE/dx[n,c] = (e^(x[n,c] - lse_n) - [c = t_n]) / N.
// One op rather than log_softmax, pick, mean and neg: four graph nodes and their allocations fewer in a
// training step, which at batch 1 is short enough to notice them (docs/performance.md).
Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  check_class_target("cross_entropy", logits, target);
  check_target_range("cross_entropy", logits, target);
  const std::int64_t classes = logits.size(1);
  return mean_row_loss(
      "cross_entropy", logits, target,
      [classes](const auto* x, std::int64_t t) { return internal::logsumexp_of(x, classes) - x[t]; },
      [classes](const auto* x, std::int64_t t, auto scale, auto* d) {
        using T = std::remove_pointer_t<decltype(d)>;
        const T lse = internal::logsumexp_of(x, classes);
        for (std::int64_t c = 0; c < classes; ++c) d[c] = scale * (std::exp(x[c] - lse) - (c == t ? T(1) : T(0)));
      },
      [](const Tensor& g, const std::vector<Tensor>& in) {  // (softmax(x) - onehot(t)) dL/dE / N, with ops
        const Tensor& x = in[0];
        const Tensor softmax = exp(log_softmax(x, 1));
        const Tensor scale = mul(g, 1.0 / static_cast<double>(x.size(0)));
        return std::vector<Tensor>{mul(sub(softmax, one_hot(in[1], x.size(1), x.dtype())), scale), Tensor()};
      },
      [](const CurvatureInput& at) {  // H = diag d2E/dx2 = p (1 - p) / N for p = softmax(x) per row
        const Tensor& x = at.inputs[0];
        const Tensor p = exp(log_softmax(x, 1));
        const Tensor hessian = mul(mul(p, rsub(1.0, p)), 1.0 / static_cast<double>(x.size(0)));
        return std::vector<Tensor>{loss_curvature(at, hessian), Tensor()};
      });
}

// E = (1/n) sum (p - t)^2 over the n elements;  dE/dp = 2 (p - t) / n = -dE/dt;  d2E/dp2 = d2E/dt2 = 2 / n.
// One node, so that it can give its Hessian as a loss; its value and gradients are those of
// mean(square(sub(p, t))), op for op and bit for bit (scaling by 2 is exact).
Tensor mse_loss(const Tensor& prediction, const Tensor& target) {
  if (prediction.shape() != target.shape())
    fail("mse_loss", "prediction {} and target {} differ in shape", shape_str(prediction.shape()),
         shape_str(target.shape()));
  Tensor out;
  {
    const NoGradGuard unrecorded_parts;
    out = mean(square(sub(prediction, target)));
  }
  if (!records(prediction, target)) return unrecorded(out, "mse_loss");
  const auto rule = [](const Tensor& g, const std::vector<Tensor>& in) {
    const Tensor upstream = expand(mul(g, 1.0 / static_cast<double>(in[0].numel())), in[0].shape());
    const Tensor to_prediction = mul(mul(upstream, sub(in[0], in[1])), 2.0);
    return std::vector<Tensor>{in[0].requires_grad() ? to_prediction : Tensor(),
                               in[1].requires_grad() ? neg(to_prediction) : Tensor()};
  };
  const auto curvature = [](const CurvatureInput& at) {
    const Tensor& p = at.inputs[0];
    const Tensor hessian = full(p.shape(), 2.0 / static_cast<double>(p.numel()), p.dtype());
    const Tensor diagonal = loss_curvature(at, hessian);
    return std::vector<Tensor>{at.inputs[0].requires_grad() ? diagonal : Tensor(),
                               at.inputs[1].requires_grad() ? diagonal : Tensor()};
  };
  return record("mse_loss", out, {prediction, target}, with_curvature(composed(rule), curvature));
}

Tensor rbf_mle_loss(const Tensor& rbf_output, const Tensor& target) {
  check_class_target("rbf_mle_loss", rbf_output, target);
  return mean(pick(rbf_output, target));
}

namespace {

/// Returns q = e^-y / Z [N,C] for rbf_map_loss, with ops, with log Z = M + log(e^(s - M) + e^(-j - M)) for s =
/// logsumexp(-y) per row and M = max(s, -j) held constant (any constant cancels), so that no exponential
/// exceeds 1.
Tensor rbf_map_probabilities(const Tensor& y, double j) {
  const Tensor s = logsumexp(neg(y), 1, true);  // [N,1]
  const Tensor m = internal::map_unary("rbf_map_loss backward", s.detach(), [j](auto v) {
    return std::max(v, static_cast<decltype(v)>(-j));
  });
  const Tensor e_j = internal::map_unary("rbf_map_loss backward", m, [j](auto v) {
    return std::exp(static_cast<decltype(v)>(-j) - v);
  });
  const Tensor log_z = add(m, log(add(exp(sub(s, m)), e_j)));
  return exp(sub(neg(y), log_z));
}

/// rbf_map_loss's rule with ops: dE/dy = (onehot(t) - q) dL/dE / N, q from rbf_map_probabilities.
std::vector<Tensor> rbf_map_recorded_rule(const Tensor& g, const Tensor& y, const Tensor& target, double j) {
  const Tensor q = rbf_map_probabilities(y, j);
  const Tensor scale = mul(g, 1.0 / static_cast<double>(y.size(0)));
  return {mul(sub(one_hot(target, y.size(1), y.dtype()), q), scale), Tensor()};
}

/// e^v, or 0 where e^v is below T's smallest normal number (v < its log). Once a sample is learned, the
/// MAP loss's terms for the other classes fall that low. Such a subnormal value adds nothing to the
/// partition sum Z >= 1, yet every operation that reads or writes one takes x86's slow path (a microcode
/// assist, about a hundred times slower), here and in every op its gradient then flows through.
template <class T>
T exp_or_zero(T v) {
  static const T log_smallest_normal = std::log(std::numeric_limits<T>::min());
  return v < log_smallest_normal ? T(0) : std::exp(v);
}

/// v, or 0 where |v| is below T's smallest normal number (exp_or_zero says why).
template <class T>
T flush_subnormal(T v) {
  return std::fabs(v) < std::numeric_limits<T>::min() ? T(0) : v;
}

}  // namespace

// E = (1/N) sum_n ( y[n,t_n] + log(e^-j + sum_i e^-y[n,i]) );  dE/dy[n,k] = ([k = t_n] - e^-y[n,k] / Z_n) / N
// with Z_n = e^-j + sum_i e^-y[n,i]. One op rather than a dozen composed ones: at batch 1 their bookkeeping
// was a twentieth of a LeNet-5 training step. Each row is shifted by m_n = max(-j, max_i -y[n,i]), which
// cancels exactly, so that no exponential exceeds 1. Terms and gradients below the smallest normal number are
// taken as 0 (exp_or_zero).
Tensor rbf_map_loss(const Tensor& rbf_output, const Tensor& target, double j) {
  check_class_target("rbf_map_loss", rbf_output, target);
  if (!std::isfinite(j) || j <= 0) fail("rbf_map_loss", "the constant j must be finite and > 0, got {}", j);
  check_target_range("rbf_map_loss", rbf_output, target);
  const std::int64_t classes = rbf_output.size(1);
  // Returns the shift m and the shifted partition sum Z e^-m of a row.
  const auto partition = [j, classes](const auto* y) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(y)>>;
    T m = static_cast<T>(-j);
    for (std::int64_t c = 0; c < classes; ++c) m = std::max(m, -y[c]);
    T z = exp_or_zero(static_cast<T>(-j) - m);
    for (std::int64_t c = 0; c < classes; ++c) z += exp_or_zero(-y[c] - m);
    return std::pair{m, z};
  };
  return mean_row_loss(
      "rbf_map_loss", rbf_output, target,
      [partition](const auto* y, std::int64_t t) {
        const auto [m, z] = partition(y);
        return y[t] + (m + std::log(z));
      },
      [partition, classes](const auto* y, std::int64_t t, auto scale, auto* d) {
        using T = std::remove_pointer_t<decltype(d)>;
        const auto [m, z] = partition(y);
        for (std::int64_t c = 0; c < classes; ++c)
          d[c] = flush_subnormal(scale * ((c == t ? T(1) : T(0)) - exp_or_zero(-y[c] - m) / z));
      },
      [j](const Tensor& g, const std::vector<Tensor>& in) { return rbf_map_recorded_rule(g, in[0], in[1], j); },
      [j](const CurvatureInput& at) {  // H = diag d2E/dy2 = q (1 - q) / N: d(-q_k)/dy_k = q_k - q_k^2
        const Tensor& y = at.inputs[0];
        const Tensor q = rbf_map_probabilities(y, j);
        const Tensor hessian = mul(mul(q, rsub(1.0, q)), 1.0 / static_cast<double>(y.size(0)));
        return std::vector<Tensor>{loss_curvature(at, hessian), Tensor()};
      });
}

}  // namespace ag
