#pragma once
/// Bytes (image pixels) to values: out[i] = bytes[i] scale + offset.
#include <cstdint>

namespace ag::kernels {

/// Writes out[i] = bytes[i] scale + offset for i < n (a multiply, then an add: the same bits on every path).
void scale_bytes(const std::uint8_t* bytes, std::int64_t n, float scale, float offset, float* out);
/// Writes out[i] = bytes[i] scale + offset for i < n.
void scale_bytes(const std::uint8_t* bytes, std::int64_t n, double scale, double offset, double* out);

}  // namespace ag::kernels
