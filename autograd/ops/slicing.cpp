// Slicing along one dimension. Every backward rule here is written with recorded ops only (unslice, slice,
// reshape), and reads no tensor's values, only shapes: each could serve as a differentiable rule as it is.
#include "autograd/ops/slicing.h"

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/axis.h"
#include "autograd/ops/internal/rows.h"
#include "autograd/ops/shape_ops.h"

namespace ag {

namespace {

/// Entries start, start + step, ... (< end) of dimension `dim`, normalised (no negatives, start <= end).
struct Range {
  std::int64_t dim = 0, start = 0, end = 0, step = 1;
  /// ceil((end - start) / step), written so that no step, however large, overflows.
  std::int64_t length() const { return end == start ? 0 : (end - start - 1) / step + 1; }
};

/// Returns the range of dimension `dim` of `shape` (the shape of the tensor the op calls `name`) that
/// (start, end, step) names, negative start and end counting from the end; throws naming `op` and the shape
/// when it does not fit. slice and unslice share it, so that each accepts exactly the arguments the other does.
Range checked_range(std::string_view op, std::string_view name, const Shape& shape, std::int64_t dim,
                    std::int64_t start, std::int64_t end, std::int64_t step) {
  const auto v = internal::axis_view_of(op, name, shape, dim);
  if (step < 1) fail(op, "step must be at least 1, got {} (dimension {} of {} {})", step, dim, name, shape_str(shape));
  const Range r{v.dim, start < 0 ? start + v.n : start, end < 0 ? end + v.n : end, step};
  if (r.start < 0 || r.start > r.end || r.end > v.n)
    fail(op, "start {} and end {} do not fit dimension {} of {} {} (0 <= start <= end <= {}, negatives counting "
         "from the end)", start, end, dim, name, shape_str(shape), v.n);
  return r;
}

/// Returns `shape` with r.length() entries along r.dim.
Shape sliced_shape(Shape shape, const Range& r) {
  shape[static_cast<std::size_t>(r.dim)] = r.length();
  return shape;
}

/// Returns x's entries in `r` as a tensor of `shape` (x's shape with r.length() along r.dim, or without that
/// dimension), unrecorded.
Tensor take(const Tensor& x, const Range& r, const Shape& shape) {
  const auto v = internal::axis_view("slice", x.shape(), r.dim);
  Tensor out = empty(shape, x.dtype());
  internal::move_rows<false>(
      x, v.n, out, r.length(), v.outer, v.inner, r.length(), [&r](std::int64_t k) { return r.start + k * r.step; },
      [](std::int64_t k) { return k; });
  return out;
}

/// Records `out`, x's entries in `r`, as op `name`.
// x [.., n, ..] -> y [.., m, ..] (m = r.length(); select: y without that dimension), G = dL/dy:
// dL/dx = unslice(G, x.shape, r) [.., n, ..]: G at the entries the op read, 0 elsewhere (an entry is read at
// most once, so nothing sums). select's G first gets the dimension back, of length 1.
// Curvature: J entries are 0 or 1, so D travels as G does (internal::route_curvature); the same for unslice.
Tensor record_slice(std::string name, Tensor out, const Tensor& x, const Range& r) {
  return record(std::move(name), std::move(out), {x}, with_curvature(composed([r](const Tensor& g, const std::vector<Tensor>& in) {
    const Shape sliced = sliced_shape(in[0].shape(), r);
    const Tensor gy = g.shape() == sliced ? g : reshape(g, sliced);
    return std::vector<Tensor>{unslice(gy, in[0].shape(), r.dim, r.start, r.end, r.step)};
  }), internal::route_curvature), {});
}

}  // namespace

// y[.., k, ..] = x[.., start + k step, ..]
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) {
  internal::check_defined("slice", "x", x);
  const Range r = checked_range("slice", "x", x.shape(), dim, start, end, step);
  return record_slice("slice", take(x, r, sliced_shape(x.shape(), r)), x, r);
}

// y[.., k, ..] = x[.., start + k, ..], k < length
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  internal::check_defined("narrow", "x", x);
  const auto v = internal::axis_view_of("narrow", "x", x.shape(), dim);
  const std::int64_t first = start < 0 ? start + v.n : start;
  if (length < 0 || first < 0 || first > v.n || length > v.n - first)
    fail("narrow", "start {} and length {} do not fit dimension {} of x {} (0 <= start, start + length <= {}, a "
         "negative start counting from the end)", start, length, dim, shape_str(x.shape()), v.n);
  const Range r{v.dim, first, first + length, 1};
  return record_slice("narrow", take(x, r, sliced_shape(x.shape(), r)), x, r);
}

// y[.., ..] = x[.., index, ..]
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index) {
  internal::check_defined("select", "x", x);
  const auto v = internal::axis_view_of("select", "x", x.shape(), dim);
  const std::int64_t i = index < 0 ? index + v.n : index;
  if (i < 0 || i >= v.n)
    fail("select", "index {} is out of range for dimension {} of x {} (-{} <= index < {})", index, dim,
         shape_str(x.shape()), v.n, v.n);
  const Range r{v.dim, i, i + 1, 1};
  return record_slice("select", take(x, r, internal::reduced_shape(x.shape(), v.dim, false)), x, r);
}

// y = 0 but y[.., start + k step, ..] = src[.., k, ..]
Tensor unslice(const Tensor& src, const Shape& shape, std::int64_t dim, std::int64_t start, std::int64_t end,
               std::int64_t step) {
  internal::check_defined("unslice", "src", src);
  const Range r = checked_range("unslice", "shape", shape, dim, start, end, step);
  const Shape expected = sliced_shape(shape, r);
  if (!(src.shape() == expected))
    fail("unslice", "src {} does not fit entries {}..{} step {} of dimension {} of shape {} (expected {})",
         shape_str(src.shape()), start, end, step, dim, shape_str(shape), shape_str(expected));
  const auto v = internal::axis_view("unslice", shape, r.dim);
  Tensor out = zeros(shape, src.dtype());
  internal::move_rows<false>(
      src, r.length(), out, v.n, v.outer, v.inner, r.length(), [](std::int64_t k) { return k; },
      [&r](std::int64_t k) { return r.start + k * r.step; });
  // src [.., m, ..] -> y [.., n, ..], G = dL/dy:  dL/dsrc = slice(G, dim, start, end, step) [.., m, ..], the
  // entries of G that src was written to.
  return record("unslice", out, {src}, with_curvature(composed([r](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{slice(g, r.dim, r.start, r.end, r.step)};
  }), internal::route_curvature), {});
}

}  // namespace ag
