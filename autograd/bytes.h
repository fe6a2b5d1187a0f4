#pragma once
/// Bytes (image pixels, say) as values, for filling a tensor from raw data.
#include <cstdint>

namespace ag {

/// Writes out[i] = bytes[i] scale + offset for i < n, vectorised (a multiply then an add, as written).
void scale_bytes(const std::uint8_t* bytes, std::int64_t n, float scale, float offset, float* out);
/// Writes out[i] = bytes[i] scale + offset for i < n.
void scale_bytes(const std::uint8_t* bytes, std::int64_t n, double scale, double offset, double* out);

}  // namespace ag
