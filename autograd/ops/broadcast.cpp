#include "autograd/ops/broadcast.h"

#include "autograd/ops/internal/elementwise.h"
#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"

namespace ag {

namespace {

void check_broadcastable(std::string_view op, const Shape& small, const Shape& large) {
  if (small.size() > large.size() || broadcast_shapes(op, small, large) != large)
    fail(op, "shape {} does not broadcast to {}", shape_str(small), shape_str(large));
}

}  // namespace

// y[i] = x[broadcast(i)];  dL/dx = sum_to(dL/dy, x.shape)
Tensor expand(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  check_broadcastable("expand", x.shape(), shape);
  Tensor out = empty(shape, x.dtype());
  dispatch_floating(x.dtype(), "expand", [&](auto type) {
    using T = decltype(type);
    const T* in = x.data<T>();
    T* o = out.mutable_data<T>();
    const auto sx = broadcast_strides(x.shape(), shape);
    const std::int64_t inner = shape.empty() ? 1 : shape.back();
    const std::int64_t step = shape.empty() ? 0 : sx.back();
    internal::for_each_row<2>(shape, {contiguous_strides(shape), sx}, [&](const std::array<std::int64_t, 2>& off) {
      for (std::int64_t j = 0; j < inner; ++j) o[off[0] + j] = in[off[1] + j * step];
    });
  });
  return record("expand", out, {x}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{sum_to(g, in[0].shape())};
  }), internal::route_curvature), {});
}

// y[j] = sum over the i that broadcast onto j of x[i];  dL/dx = expand(dL/dy, x.shape)
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  check_broadcastable("sum_to", shape, x.shape());
  Tensor out = zeros(shape, x.dtype());
  dispatch_floating(x.dtype(), "sum_to", [&](auto type) {
    using T = decltype(type);
    const T* in = x.data<T>();
    T* o = out.mutable_data<T>();
    const Shape& big = x.shape();
    const auto so = broadcast_strides(shape, big);
    const std::int64_t inner = big.empty() ? 1 : big.back();
    const std::int64_t step = big.empty() ? 0 : so.back();
    internal::for_each_row<2>(big, {contiguous_strides(big), so}, [&](const std::array<std::int64_t, 2>& off) {
      for (std::int64_t j = 0; j < inner; ++j) o[off[1] + j * step] += in[off[0] + j];
    });
  });
  return record("sum_to", out, {x}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{expand(g, in[0].shape())};
  }), internal::route_curvature), {});
}

}  // namespace ag
