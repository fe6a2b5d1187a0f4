#pragma once
/// Bytes (image pixels) to values: out[i] = bytes[i] scale + offset.
#include <cstdint>

namespace ag::kernels {

/// Writes out[i] = bytes[i] scale + offset for i < n (a multiply, then an add: the same bits on every path).
void scale_bytes(const std::uint8_t* bytes, std::int64_t n, float scale, float offset, float* out);
/// Writes out[i] = bytes[i] scale + offset for i < n.
void scale_bytes(const std::uint8_t* bytes, std::int64_t n, double scale, double offset, double* out);
/// Writes out[r out_stride + c] = bytes[r cols + c] scale + offset for r < rows, c < cols (an image's rows into
/// a wider canvas), each row as scale_bytes would.
void scale_byte_rows(const std::uint8_t* bytes, std::int64_t rows, std::int64_t cols, float scale, float offset,
                     float* out, std::int64_t out_stride);
/// The same for double.
void scale_byte_rows(const std::uint8_t* bytes, std::int64_t rows, std::int64_t cols, double scale, double offset,
                     double* out, std::int64_t out_stride);

}  // namespace ag::kernels
