// Joining tensors. Both backward rules are written with recorded ops only (narrow, select) and read no
// tensor's values: each could serve as a differentiable rule as it is.
#include "autograd/ops/joining.h"

#include <fmt/format.h>

#include <string>

#include "autograd/custom_op.h"
#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/axis.h"
#include "autograd/ops/internal/rows.h"
#include "autograd/ops/slicing.h"

namespace ag {

namespace {

/// Returns "tensor 1 [2,4]" (with its dtype: "tensor 1 [2,4] float64") for the error messages, which name
/// the first tensor at fault and the first tensor, rather than a list that may run to thousands.
std::string describe(const std::vector<Tensor>& tensors, std::size_t i, bool with_dtype = false) {
  std::string out = fmt::format("tensor {} {}", i, shape_str(tensors[i].shape()));
  if (with_dtype) out += fmt::format(" {}", dtype_name(tensors[i].dtype()));
  return out;
}

/// Throws naming `op` unless `tensors` holds at least one tensor, every one defined and all of one dtype.
void check_list(std::string_view op, const std::vector<Tensor>& tensors) {
  if (tensors.empty()) fail(op, "expects at least one tensor");
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (!tensors[i].defined()) fail(op, "tensor {} is undefined", i);
  for (std::size_t i = 1; i < tensors.size(); ++i)
    if (tensors[i].dtype() != tensors[0].dtype())
      fail(op, "expects tensors of one dtype, got {} and {}", describe(tensors, 0, true), describe(tensors, i, true));
}

/// Returns dimension `dim` of a tensor of `rank` normalised; throws naming `op` and `what` (the shapes) when
/// it is out of range.
std::int64_t checked_dim(std::string_view op, std::int64_t dim, std::int64_t rank, const std::string& what) {
  if (dim < -rank || dim >= rank) fail(op, "dimension {} is out of range for {} (rank {})", dim, what, rank);
  return dim < 0 ? dim + rank : dim;
}

/// Returns the tensors' values one after another along dimension `d` of `shape`, tensor i filling rows[i]
/// entries of it (cat: its size along d; stack: 1).
Tensor join(const std::vector<Tensor>& tensors, const std::vector<std::int64_t>& rows, const Shape& shape,
            std::int64_t d) {
  const auto v = internal::axis_view("cat", shape, d);
  Tensor out = empty(shape, tensors[0].dtype());
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    internal::move_rows<false>(
        tensors[i], rows[i], out, v.n, v.outer, v.inner, rows[i], [](std::int64_t k) { return k; },
        [offset](std::int64_t k) { return offset + k; });
    offset += rows[i];
  }
  return out;
}

}  // namespace

// y = x_0, x_1, ... one after another along dim
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  check_list("cat", tensors);
  const Shape& first = tensors[0].shape();
  const std::int64_t d = checked_dim("cat", dim, tensors[0].dim(), describe(tensors, 0));
  Shape shape = first;
  shape[static_cast<std::size_t>(d)] = 0;
  std::vector<std::int64_t> rows;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    bool fits = t.dim() == tensors[0].dim();
    for (std::int64_t k = 0; fits && k < t.dim(); ++k) fits = k == d || t.size(k) == first[static_cast<std::size_t>(k)];
    if (!fits)
      fail("cat", "expects tensors of one rank whose sizes differ only along dimension {}, got {} and {}", dim,
           describe(tensors, 0), describe(tensors, i));
    rows.push_back(t.size(d));
    shape[static_cast<std::size_t>(d)] += t.size(d);
  }
  // x_i [.., n_i, ..] -> y [.., sum_i n_i, ..], G = dL/dy:  dL/dx_i = narrow(G, dim, offset_i, n_i) [.., n_i, ..],
  // the entries x_i filled, offset_i = n_0 + ... + n_{i-1}.
  // Curvature: J entries are 0 or 1, so D travels as G does (internal::route_curvature).
  return record("cat", join(tensors, rows, shape, d), tensors, with_curvature(composed([d, rows](const Tensor& g, const std::vector<Tensor>& in) {
    std::vector<Tensor> grads(in.size());
    std::int64_t offset = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (needs_grad(in, i)) grads[i] = narrow(g, d, offset, rows[i]);
      offset += rows[i];
    }
    return grads;
  }), internal::route_curvature), {});
}

// y[.., i (at dim), ..] = x_i
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  check_list("stack", tensors);
  const Shape& first = tensors[0].shape();
  for (std::size_t i = 1; i < tensors.size(); ++i)
    if (!(tensors[i].shape() == first))
      fail("stack", "expects tensors of one shape, got {} and {}", describe(tensors, 0), describe(tensors, i));
  const std::int64_t d = checked_dim("stack", dim, tensors[0].dim() + 1,
                                     fmt::format("the result of stacking tensors {}", shape_str(first)));
  const auto count = static_cast<std::int64_t>(tensors.size());
  Shape shape = first;
  shape.insert(shape.begin() + d, {count});
  // K tensors x_i [S] -> y [.., K (at dim), ..], G = dL/dy:  dL/dx_i = select(G, dim, i) [S]. Curvature: as cat.
  return record("stack", join(tensors, std::vector<std::int64_t>(tensors.size(), 1), shape, d), tensors,
                with_curvature(composed([d](const Tensor& g, const std::vector<Tensor>& in) {
                  std::vector<Tensor> grads(in.size());
                  for (std::size_t i = 0; i < in.size(); ++i)
                    if (needs_grad(in, i)) grads[i] = select(g, d, static_cast<std::int64_t>(i));
                  return grads;
                }), internal::route_curvature), {});
}

}  // namespace ag
