#include "autograd/ops/internal/elementwise.h"

namespace ag::internal {

void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    fail(op, "dtypes differ: {} {} and {} {}", shape_str(a.shape()), dtype_name(a.dtype()), shape_str(b.shape()),
         dtype_name(b.dtype()));
}

}  // namespace ag::internal
