#pragma once
/// Bytes (image pixels, say) as values, for filling a tensor from raw data.
#include <cstdint>

namespace ag {

/// Writes out[i] = bytes[i] scale + offset for i < n, vectorised (a multiply then an add, as written).
void scale_bytes(const std::uint8_t* bytes, std::int64_t n, float scale, float offset, float* out);
/// Writes out[i] = bytes[i] scale + offset for i < n.
void scale_bytes(const std::uint8_t* bytes, std::int64_t n, double scale, double offset, double* out);
/// Writes out[r out_stride + c] = bytes[r cols + c] scale + offset for the rows x cols bytes (an image into a
/// wider canvas, rows out_stride apart), each row as scale_bytes.
void scale_byte_rows(const std::uint8_t* bytes, std::int64_t rows, std::int64_t cols, float scale, float offset,
                     float* out, std::int64_t out_stride);
/// The same for double.
void scale_byte_rows(const std::uint8_t* bytes, std::int64_t rows, std::int64_t cols, double scale, double offset,
                     double* out, std::int64_t out_stride);

}  // namespace ag
