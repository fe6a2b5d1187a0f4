#include "autograd/bytes.h"

#include "kernels/bytes.h"

namespace ag {

void scale_bytes(const std::uint8_t* bytes, std::int64_t n, float scale, float offset, float* out) {
  kernels::scale_bytes(bytes, n, scale, offset, out);
}

void scale_bytes(const std::uint8_t* bytes, std::int64_t n, double scale, double offset, double* out) {
  kernels::scale_bytes(bytes, n, scale, offset, out);
}

}  // namespace ag
