#include "autograd/bytes.h"

#include "kernels/bytes.h"

namespace ag {

void scale_bytes(const std::uint8_t* bytes, std::int64_t n, float scale, float offset, float* out) {
  kernels::scale_bytes(bytes, n, scale, offset, out);
}

void scale_bytes(const std::uint8_t* bytes, std::int64_t n, double scale, double offset, double* out) {
  kernels::scale_bytes(bytes, n, scale, offset, out);
}

void scale_byte_rows(const std::uint8_t* bytes, std::int64_t rows, std::int64_t cols, float scale, float offset,
                     float* out, std::int64_t out_stride) {
  kernels::scale_byte_rows(bytes, rows, cols, scale, offset, out, out_stride);
}

void scale_byte_rows(const std::uint8_t* bytes, std::int64_t rows, std::int64_t cols, double scale, double offset,
                     double* out, std::int64_t out_stride) {
  kernels::scale_byte_rows(bytes, rows, cols, scale, offset, out, out_stride);
}

}  // namespace ag
