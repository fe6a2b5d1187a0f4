#pragma once
/// Element types: float32 for training, float64 for gradient checks, int64 for class indices.
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "autograd/error.h"

namespace ag {

enum class DType { f32, f64, i64 };

/// Returns "float32", "float64" or "int64".
constexpr std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i64: return "int64";
  }
  return "unknown";
}

/// Returns the size in bytes of one element of `dtype`.
constexpr std::size_t dtype_size(DType dtype) { return dtype == DType::f32 ? 4 : 8; }

/// Maps a C++ element type to its DType.
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, double>) return DType::f64;
  else {
    static_assert(std::is_same_v<T, std::int64_t>, "unsupported element type");
    return DType::i64;
  }
}

/// Calls f(float{}) or f(double{}) for a floating dtype; `op` names the caller in the error for int64.
template <class F>
decltype(auto) dispatch_floating(DType dtype, std::string_view op, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    default: fail(op, "expected a float32 or float64 tensor, got {}", dtype_name(dtype));
  }
}

}  // namespace ag
