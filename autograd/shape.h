#pragma once
/// Shapes: row-major, contiguous, dimensions as int64.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ag {

using Shape = std::vector<std::int64_t>;

/// Returns the number of elements of a tensor of shape `shape` (1 for a scalar, shape []).
std::int64_t numel_of(const Shape& shape);

/// Returns "[d0,d1,...]", the form every error message uses.
std::string shape_str(const Shape& shape);

/// Returns the row-major strides (in elements) of `shape`.
std::vector<std::int64_t> contiguous_strides(const Shape& shape);

/// Returns the NumPy broadcast of shapes a and b; throws naming `op` and both shapes when they do not broadcast.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

/// Returns the strides with which a tensor of shape `from` is read when broadcast to shape `to`
/// (0 along broadcast dimensions), aligned to the rank of `to`.
std::vector<std::int64_t> broadcast_strides(const Shape& from, const Shape& to);

/// Turns a possibly negative dimension index into 0..rank-1; throws naming `op` when out of range.
std::int64_t normalize_dim(std::string_view op, std::int64_t dim, std::int64_t rank);

}  // namespace ag
