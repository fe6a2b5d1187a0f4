#pragma once
/// Internal to the ops: a tensor seen as [outer, n, inner] around one dimension, the layout every reduction uses.
#include <cstdint>
#include <string_view>

#include "autograd/error.h"
#include "autograd/shape.h"

namespace ag::internal {

struct AxisView {
  std::int64_t outer = 1;  ///< product of the dimensions before `dim`
  std::int64_t n = 1;      ///< size of `dim`
  std::int64_t inner = 1;  ///< product of the dimensions after `dim`
  std::int64_t dim = 0;    ///< the normalised dimension
};

/// Splits `shape` around `dim` (negative counts from the end); throws naming `op` when out of range.
inline AxisView axis_view(std::string_view op, const Shape& shape, std::int64_t dim) {
  AxisView v;
  v.dim = normalize_dim(op, dim, static_cast<std::int64_t>(shape.size()));
  for (std::int64_t d = 0; d < v.dim; ++d) v.outer *= shape[d];
  v.n = shape[v.dim];
  for (std::int64_t d = v.dim + 1; d < static_cast<std::int64_t>(shape.size()); ++d) v.inner *= shape[d];
  return v;
}

/// As axis_view, with an error that names the tensor as well: "<op>: dimension 2 is out of range for x [2,4]
/// (rank 2)", `name` being how the op's documentation calls the tensor of that shape.
inline AxisView axis_view_of(std::string_view op, std::string_view name, const Shape& shape, std::int64_t dim) {
  const auto rank = static_cast<std::int64_t>(shape.size());
  if (dim < -rank || dim >= rank)
    fail(op, "dimension {} is out of range for {} {} (rank {})", dim, name, shape_str(shape), rank);
  return axis_view(op, shape, dim);
}

/// Returns `shape` with dimension `dim` set to 1 (keepdim) or removed.
inline Shape reduced_shape(const Shape& shape, std::int64_t dim, bool keepdim) {
  Shape out = shape;
  if (keepdim) out[dim] = 1;
  else out.erase(out.begin() + dim);
  return out;
}

}  // namespace ag::internal
