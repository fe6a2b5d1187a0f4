#pragma once
// Helpers for the LeNet op tests: the four ops re-built from the engine's primitive ops (whose gradients
// the engine derives itself), gradient collection, and comparisons.
#include <autograd/autograd.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "support/random_inputs.h"

namespace lenet_test {

using ag::DType;
using ag::Shape;
using ag::Tensor;
using Inputs = std::vector<Tensor>;

/// Returns max |a - b| over all elements; the shapes must agree.
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto va = a.to_vector(), vb = b.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::abs(va[i] - vb[i]));
  return worst;
}

/// Returns max |a - b| / max(1, max |b|): a relative error for comparing float32 with float64 results.
inline double max_rel_diff(const Tensor& a, const Tensor& b) {
  const auto vb = b.to_vector();
  double scale = 1;
  for (double v : vb) scale = std::max(scale, std::abs(v));
  return max_abs_diff(a, b) / scale;
}

/// Returns fresh leaf copies of `inputs` (undefined stays undefined; requires_grad carried over).
inline Inputs fresh_leaves(const Inputs& inputs) {
  Inputs out;
  for (const auto& t : inputs) {
    if (!t.defined()) {
      out.emplace_back();
      continue;
    }
    Tensor c = t.clone();
    if (t.requires_grad()) c.requires_grad_();
    out.push_back(c);
  }
  return out;
}

/// Runs f on fresh copies of `inputs`, back-propagates `upstream` (the shape of f's result) and returns
/// each input's gradient (undefined for inputs without requires_grad).
inline Inputs gradients(const std::function<Tensor(const Inputs&)>& f, const Inputs& inputs, const Tensor& upstream) {
  Inputs leaves = fresh_leaves(inputs);
  f(leaves).backward(upstream);
  Inputs out;
  for (const auto& l : leaves) out.push_back(l.defined() && l.requires_grad() ? l.grad() : Tensor());
  return out;
}

/// Returns a float64 leaf of `shape` whose values are all distinct, at least 0.01 apart (away from max ties).
inline Tensor distinct_values(const Shape& shape, ag::Generator& gen) {
  const std::int64_t n = ag::numel_of(shape);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.below(i)]);
  std::vector<double> values(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) values[i] = 0.01 * static_cast<double>(order[i] - n / 2);
  Tensor t = ag::from_vector(values, shape, DType::f64);
  t.requires_grad_();
  return t;
}

/// Returns a random O x C connection table with some pairs unconnected and every output map reading a map.
inline ag::ConnectionTable random_table(std::int64_t outputs, std::int64_t inputs, ag::Generator& gen) {
  std::vector<std::uint8_t> entries(static_cast<std::size_t>(outputs * inputs));
  for (std::int64_t o = 0; o < outputs; ++o) {
    bool any = false;
    for (std::int64_t c = 0; c < inputs; ++c) {
      const bool on = gen.uniform() < 0.5;
      entries[static_cast<std::size_t>(o * inputs + c)] = on ? 1 : 0;
      any = any || on;
    }
    if (!any) entries[static_cast<std::size_t>(o * inputs + static_cast<std::int64_t>(gen.below(inputs)))] = 1;
  }
  if (inputs > 1) entries[0] = 0, entries[1] = 1;  // at least one unconnected pair, row 0 still connected
  return ag::ConnectionTable(outputs, inputs, entries);
}

/// Returns the constant [outs, ins] matrix with a 1 at (i, i stride + offset) when 0 <= i stride + offset < ins:
/// multiplying by it picks rows i stride + offset, giving 0 where that index falls in the zero padding.
inline Tensor selection(std::int64_t outs, std::int64_t ins, std::int64_t stride, std::int64_t offset, DType dtype) {
  Tensor m = ag::zeros({outs, ins}, dtype);
  for (std::int64_t i = 0; i < outs; ++i)
    if (const std::int64_t y = i * stride + offset; y >= 0 && y < ins) m.set({i, y}, 1.0);
  return m;
}

/// Returns the shifted slice s[n,c,i,j] = x[n,c, i stride.h + di, j stride.w + dj] (0 outside x), i < oh,
/// j < ow, composed from two matmuls with constant selection matrices: [N,C,H,W] -> [N,C,oh,ow].
inline Tensor shifted(const Tensor& x, std::int64_t oh, std::int64_t ow, ag::Size2 stride, std::int64_t di,
                      std::int64_t dj) {
  const Tensor rows = selection(oh, x.size(2), stride.h, di, x.dtype());                       // [oh,H]
  const Tensor cols = ag::transpose(selection(ow, x.size(3), stride.w, dj, x.dtype()), 0, 1);  // [W,ow]
  return ag::matmul(ag::matmul(rows, x), cols);
}

/// conv2d composed from primitives (any per-axis stride, padding and dilation): the sum over kernel offsets
/// (ki,kj) of the shifted input slice times the
/// tap weight[:,:,ki,kj], every tap cut (by a matmul with a one-hot column) from the same shared weight
/// tensor, so the engine's accumulation produces the shared-weight gradient. A table multiplies the weight
/// by its 0/1 mask first.
inline Tensor conv2d_composed(const Tensor& x, const Tensor& w, const Tensor& b, const ag::Conv2dOptions& o) {
  const std::int64_t n = x.size(0), c = x.size(1), out = w.size(0), kh = w.size(2), kw = w.size(3);
  const std::int64_t oh = (x.size(2) + 2 * o.padding.h - o.dilation.h * (kh - 1) - 1) / o.stride.h + 1;
  const std::int64_t ow = (x.size(3) + 2 * o.padding.w - o.dilation.w * (kw - 1) - 1) / o.stride.w + 1;
  Tensor weight = w;
  if (o.table) {
    Tensor mask = ag::zeros({out, c, 1, 1}, w.dtype());
    for (std::int64_t i = 0; i < out; ++i)
      for (std::int64_t j = 0; j < c; ++j) mask.set({i, j, 0, 0}, o.table->connected(i, j) ? 1.0 : 0.0);
    weight = ag::mul(w, mask);
  }
  const Tensor flat = ag::reshape(weight, {out * c, kh * kw});
  Tensor y;
  for (std::int64_t ki = 0; ki < kh; ++ki)
    for (std::int64_t kj = 0; kj < kw; ++kj) {
      Tensor onehot = ag::zeros({kh * kw, 1}, w.dtype());
      onehot.set({ki * kw + kj, 0}, 1.0);
      const Tensor tap = ag::reshape(ag::matmul(flat, onehot), {out, c});  // [O,C]
      const Tensor slice = ag::reshape(
          shifted(x, oh, ow, o.stride, ki * o.dilation.h - o.padding.h, kj * o.dilation.w - o.padding.w),
          {n, c, oh * ow});
      const Tensor term = ag::matmul(tap, slice);  // [N,O,P]
      y = y.defined() ? ag::add(y, term) : term;
    }
  y = ag::reshape(y, {n, out, oh, ow});
  return b.defined() ? ag::add(y, ag::reshape(b, {out, 1, 1})) : y;
}

/// subsample composed from primitives: reshape to [N,C,OH,k,OW,k], sum both window axes, times coeff, plus bias.
inline Tensor subsample_composed(const Tensor& x, const Tensor& coeff, const Tensor& bias, std::int64_t k) {
  const std::int64_t n = x.size(0), c = x.size(1), oh = x.size(2) / k, ow = x.size(3) / k;
  const Tensor sums = ag::sum(ag::sum(ag::reshape(x, {n, c, oh, k, ow, k}), 5), 3);  // [N,C,OH,OW]
  const Tensor y = ag::mul(sums, ag::reshape(coeff, {c, 1, 1}));
  return bias.defined() ? ag::add(y, ag::reshape(bias, {c, 1, 1})) : y;
}

/// rbf composed from primitives: sum over the last axis of square(x[:,None,:] - centres).
inline Tensor rbf_composed(const Tensor& x, const Tensor& centres) {
  return ag::sum(ag::square(ag::sub(ag::reshape(x, {x.size(0), 1, x.size(1)}), centres)), 2);
}

/// Non-overlapping max-pool (stride = k, H and W divisible by k) composed from primitives: reshape to
/// [N,C,OH,k,OW,k], swap the middle axes, flatten each window row-major and take max along it.
inline Tensor max_pool_composed(const Tensor& x, std::int64_t k) {
  const std::int64_t n = x.size(0), c = x.size(1), oh = x.size(2) / k, ow = x.size(3) / k;
  const Tensor windows = ag::transpose(ag::reshape(x, {n, c, oh, k, ow, k}), 3, 4);  // [N,C,OH,OW,k,k]
  return ag::max(ag::reshape(windows, {n, c, oh, ow, k * k}), 4);
}

/// Any max-pool composed from primitives: the k k shifted slices stacked (in row-major window order) along a
/// new last axis, each placed by a matmul with a one-hot row, then max along that axis.
inline Tensor max_pool_stacked(const Tensor& x, std::int64_t k, std::int64_t stride) {
  const std::int64_t n = x.size(0), c = x.size(1);
  const std::int64_t oh = (x.size(2) - k) / stride + 1, ow = (x.size(3) - k) / stride + 1;
  Tensor stacked;
  for (std::int64_t a = 0; a < k; ++a)
    for (std::int64_t b = 0; b < k; ++b) {
      Tensor onehot = ag::zeros({1, k * k}, x.dtype());
      onehot.set({0, a * k + b}, 1.0);
      const Tensor term = ag::matmul(ag::reshape(shifted(x, oh, ow, stride, a, b), {n, c, oh, ow, 1}), onehot);
      stacked = stacked.defined() ? ag::add(stacked, term) : term;
    }
  return ag::max(stacked, 4);
}

/// Returns a float32 copy of a float64 tensor (cut from the graph).
inline Tensor to_f32(const Tensor& t) { return t.defined() ? ag::to_dtype(t.detach(), DType::f32) : Tensor(); }

/// Checks that a fused op (`one_op`, e.g. conv2d with an activation epilogue) gives the same bits as the ops
/// it fuses (`two_ops`), in its value and in every input's gradient for a random upstream gradient, and,
/// in float64, that it passes gradcheck. `inputs` are leaves of one dtype.
inline void check_fused_matches(const std::function<Tensor(const Inputs&)>& one_op,
                                const std::function<Tensor(const Inputs&)>& two_ops, const Inputs& inputs,
                                ag::Generator& gen) {
  const DType dtype = inputs.front().dtype();
  const Tensor y = one_op(fresh_leaves(inputs));
  CHECK(y.to_vector() == two_ops(fresh_leaves(inputs)).to_vector());
  const Tensor up = ag::to_dtype(ag::normal(y.shape(), 0, 1, gen, DType::f64), dtype);
  const auto g1 = gradients(one_op, inputs, up), g2 = gradients(two_ops, inputs, up);
  for (std::size_t i = 0; i < g1.size(); ++i) CHECK(g1[i].to_vector() == g2[i].to_vector());
  if (dtype == DType::f64) CHECK(ag::gradcheck(one_op, inputs));
}

}  // namespace lenet_test
