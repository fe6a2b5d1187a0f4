// Softmax, log-softmax and log-sum-exp. log_softmax and logsumexp give two rules (a loop, and one of recorded
// ops). softmax gives one rule, through the plain record: it is written with recorded ops (mul, sub, sum), so
// that it could serve as the recorded rule as it is (see softmax below).
#include "autograd/ops/softmax.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops/internal/axis.h"
#include "autograd/ops/internal/logsumexp.h"
#include "autograd/graph.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape_ops.h"
#include "autograd/ops/unary.h"
#include "autograd/custom_op.h"

namespace ag {

// y = x - lse(x);  dL/dx_k = dL/dy_k - softmax_k * sum_j dL/dy_j   (softmax = e^y)
Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  const auto v = internal::axis_view("log_softmax", x.shape(), dim);
  Tensor out = empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "log_softmax", [&](auto type) {
    using T = decltype(type);
    std::vector<T> lse(static_cast<std::size_t>(v.outer * v.inner));
    internal::logsumexp_kernel(x.data<T>(), lse.data(), v);
    const T* p = x.data<T>();
    T* o = out.mutable_data<T>();
    for (std::int64_t a = 0; a < v.outer; ++a)
      for (std::int64_t k = 0; k < v.n; ++k)
        for (std::int64_t i = 0; i < v.inner; ++i) {
          const std::int64_t at = (a * v.n + k) * v.inner + i;
          o[at] = p[at] - lse[static_cast<std::size_t>(a * v.inner + i)];
        }
  });
  const Tensor y = out.detach();  // the output, which the rule reads
  // The recorded rule, with y recomputed from x: dL/dx = dL/dy - e^y sum_k dL/dy_k.
  const auto recorded = [d = v.dim](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{sub(g, mul(exp(log_softmax(in[0], d)), sum(g, d, true)))};
  };
  const auto fast = [v, y](const Tensor& g, const std::vector<Tensor>&) {
    Tensor gx = empty(g.shape(), g.dtype());
    dispatch_floating(g.dtype(), "log_softmax backward", [&](auto type) {
      using T = decltype(type);
      const T* pg = g.data<T>();
      const T* py = y.data<T>();
      T* o = gx.mutable_data<T>();
      for (std::int64_t a = 0; a < v.outer; ++a)
        for (std::int64_t i = 0; i < v.inner; ++i) {
          const std::int64_t base = a * v.n * v.inner + i;
          T total = 0;
          for (std::int64_t k = 0; k < v.n; ++k) total += pg[base + k * v.inner];
          for (std::int64_t k = 0; k < v.n; ++k)
            o[base + k * v.inner] = pg[base + k * v.inner] - std::exp(py[base + k * v.inner]) * total;
        }
    });
    return std::vector<Tensor>{gx};
  };
  // Curvature along dim, p = e^y, D = diag d2L/dy2 (x's shape): J[i,j] = dy_i/dx_j = delta_ij - p_j, so
  // D_x[j] = sum_i (delta_ij - p_j)^2 D_i = D_j (1 - 2 p_j) + p_j^2 sum_i D_i, O(n) per row.
  const auto curvature = [d = v.dim](const CurvatureInput& at) {
    const Tensor p = exp(at.saved[0]);
    const Tensor own = mul(at.curvature, rsub(1.0, mul(p, 2.0)));
    return std::vector<Tensor>{add(own, mul(mul(p, p), sum(at.curvature, d, true)))};
  };
  return record("log_softmax", out, {x}, Rules{fast, recorded, curvature}, {y});
}

// y_k = e^(x_k - m) / sum_j e^(x_j - m), m = max_j x_j (so that no exp overflows)
Tensor softmax(const Tensor& x, std::int64_t dim) {
  check_floating("softmax", x);
  const auto v = internal::axis_view_of("softmax", "x", x.shape(), dim);
  Tensor out = empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "softmax", [&](auto type) {
    using T = decltype(type);
    const T* p = x.data<T>();
    T* o = out.mutable_data<T>();
    for (std::int64_t a = 0; v.n > 0 && a < v.outer; ++a)
      for (std::int64_t i = 0; i < v.inner; ++i) {
        const std::int64_t base = a * v.n * v.inner + i;
        T m = p[base];
        for (std::int64_t k = 1; k < v.n; ++k) m = std::max(m, p[base + k * v.inner]);
        T total = 0;
        for (std::int64_t k = 0; k < v.n; ++k) total += o[base + k * v.inner] = std::exp(p[base + k * v.inner] - m);
        for (std::int64_t k = 0; k < v.n; ++k) o[base + k * v.inner] /= total;
      }
  });
  // x, y [.., n, ..], G = dL/dy:  dL/dx_k = y_k (G_k - sum_j G_j y_j) along dim  (dy_j/dx_k = y_j (delta_jk - y_k)).
  // Written with recorded ops (mul, sub, sum). A plain pass runs it with recording off and reads the saved
  // output y; a pass that records it (a higher-order gradient) recomputes y = softmax(x), so that the gradient
  // depends on x in the graph. It may read x, so x is saved (checked for in-place writes) along with y.
  const Tensor y = out.detach();
  const std::int64_t d = v.dim;
  // Curvature along dim, D = diag d2L/dy2 (x's shape): J[i,j] = y_i (delta_ij - y_j), so
  // D_x[j] = sum_i y_i^2 (delta_ij - y_j)^2 D_i = y_j^2 (S + D_j (1 - 2 y_j)), S = sum_i y_i^2 D_i: O(n) per row.
  const auto curvature = [d](const CurvatureInput& at) {
    const Tensor& s = at.saved[0];  // y: record keeps x, an input, among the inputs rather than in saved
    const Tensor s2 = mul(s, s);
    const Tensor total = sum(mul(s2, at.curvature), d, true);
    return std::vector<Tensor>{mul(s2, add(mul(at.curvature, rsub(1.0, mul(s, 2.0))), total))};
  };
  return record("softmax", out, {x}, with_curvature(composed([d, y](const Tensor& g, const std::vector<Tensor>& in) {
    const Tensor s = grad_mode_enabled() ? softmax(in[0], d) : y;
    return std::vector<Tensor>{s * (g - sum(g * s, d, /*keepdim=*/true))};
  }), curvature), {x, y});
}

// y = log sum_k e^(x_k);  dL/dx_k = dL/dy * e^(x_k - y)
Tensor logsumexp(const Tensor& x, std::int64_t dim, bool keepdim) {
  const auto v = internal::axis_view("logsumexp", x.shape(), dim);
  Tensor out = empty(internal::reduced_shape(x.shape(), v.dim, keepdim), x.dtype());
  dispatch_floating(x.dtype(), "logsumexp", [&](auto type) {
    using T = decltype(type);
    internal::logsumexp_kernel(x.data<T>(), out.mutable_data<T>(), v);
  });
  const Tensor y = out.detach();  // the output, which the rule reads
  // The recorded rule, with y recomputed from x (kept as a dimension of 1): dL/dx_k = dL/dy e^(x_k - y).
  const auto recorded = [d = v.dim](const Tensor& g, const std::vector<Tensor>& in) {
    const Tensor y_kept = logsumexp(in[0], d, true);
    return std::vector<Tensor>{mul(reshape(g, y_kept.shape()), exp(sub(in[0], y_kept)))};
  };
  const auto fast = [v, y](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor gx = empty(in[0].shape(), g.dtype());
    dispatch_floating(g.dtype(), "logsumexp backward", [&](auto type) {
      using T = decltype(type);
      const T* pg = g.data<T>();
      const T* py = y.data<T>();
      const T* px = in[0].data<T>();
      T* o = gx.mutable_data<T>();
      for (std::int64_t a = 0; a < v.outer; ++a)
        for (std::int64_t k = 0; k < v.n; ++k)
          for (std::int64_t i = 0; i < v.inner; ++i) {
            const std::int64_t at = (a * v.n + k) * v.inner + i;
            o[at] = pg[a * v.inner + i] * std::exp(px[at] - py[a * v.inner + i]);
          }
    });
    return std::vector<Tensor>{gx};
  };
  // Curvature, D = diag d2L/dy2 (y's shape): J[j] = dy/dx_j = p_j = e^(x_j - y), so D_x[j] = p_j^2 D (x's shape).
  const auto curvature = [d = v.dim](const CurvatureInput& at) {
    Shape kept = at.inputs[0].shape();
    kept[static_cast<std::size_t>(d)] = 1;
    const Tensor p = exp(sub(at.inputs[0], reshape(at.saved[0], kept)));  // saved[0]: y (x is an input)
    return std::vector<Tensor>{mul(mul(p, p), reshape(at.curvature, kept))};
  };
  return record("logsumexp", out, {x}, Rules{fast, recorded, curvature}, {x, y});
}

}  // namespace ag
