#include "autograd/ops/max_pool.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/internal/flat_index.h"
#include "autograd/ops/internal/fused_activation.h"
#include "kernels/max_pool.h"

namespace ag {

namespace {

void check_arguments(const Tensor& x, Size2 k, Size2 s, Size2 p) {
  if (!x.defined()) fail("max_pool2d", "the input must be a defined tensor");
  if (x.dim() != 4) fail("max_pool2d", "expects input [N,C,H,W], got {}", shape_str(x.shape()));
  if (x.dtype() == DType::i64)
    fail("max_pool2d", "expects a float32 or float64 tensor, got int64: input {}", shape_str(x.shape()));
  if (k.min() < 1 || s.min() < 1)
    fail("max_pool2d", "kernel and stride must be at least 1, got kernel {} and stride {}: input {}", k.str(), s.str(),
         shape_str(x.shape()));
  if (p.min() < 0 || 2 * p.h > k.h || 2 * p.w > k.w)
    fail("max_pool2d", "padding must be between 0 and half the kernel, got padding {} for kernel {}: input {}", p.str(),
         k.str(), shape_str(x.shape()));
  if (x.size(2) * x.size(3) > std::numeric_limits<std::int32_t>::max())
    fail("max_pool2d", "maps of {}x{} are too large for its 32-bit argmax offsets: input {}", x.size(2), x.size(3),
         shape_str(x.shape()));
  const std::int64_t h = x.size(2) + 2 * p.h, w = x.size(3) + 2 * p.w;
  if (k.h > h || k.w > w)
    fail("max_pool2d", "kernel {}x{} is larger than the {}input {}x{}: input {}", k.h, k.w,
         p == Size2(0) ? "" : "padded ", h, w, shape_str(x.shape()));
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding, Activation activation) {
  check_arguments(x, kernel, stride, padding);
  const kernels::MaxPoolShape geo{x.size(0) * x.size(1), x.size(2), x.size(3), kernel.h,  kernel.w,
                                  stride.h,                stride.w,  padding.h, padding.w};
  Tensor out = empty({x.size(0), x.size(1), geo.out_h(), geo.out_w()}, x.dtype());
  // The argmax offsets, kept for the backward only when x will get a gradient: 32-bit integers in the bytes
  // of a float32 tensor of the same count, so that they come from (and return to) the storage cache.
  const Tensor index = records(x) ? empty({out.numel()}, DType::f32) : Tensor();
  const auto offsets = [](const Tensor& t) { return reinterpret_cast<std::int32_t*>(t.impl()->storage.get()); };
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto type) {
    using T = decltype(type);
    kernels::max_pool_forward<T>(geo, x.data<T>(), internal::kernel_activation(activation), out.mutable_data<T>(),
                                 index.defined() ? offsets(index) : nullptr);
  });
  // With an activation f, y = f(z) for the pooled z, and first G = dL/dz = dL/dy f'(z), from y. Then
  // dL/dx [N,C,H,W] = G [N,C,OH,OW] routed to each window's first maximal element (summed where windows overlap)
  if (!records(x)) return unrecorded(out, "max_pool2d", internal::fused_suffix(activation));
  const internal::FusedActivation fused = internal::fused_activation("max_pool2d", activation, out);
  // The recorded rule: G from the pool recomputed (with its graph), scattered to each window's maximum, as
  // flat positions into x (plane * H W + the kernel's offset within the plane).
  const auto recorded = [geo, index, offsets, kernel, stride, padding, activation](const Tensor& gy,
                                                                                   const std::vector<Tensor>& in) {
    const Tensor g =
        activation == Activation::none
            ? gy
            : activation_backward(activation, gy, max_pool2d(in[0], kernel, stride, padding, activation));
    Tensor flat = empty(g.shape(), DType::i64);
    const std::int64_t in_plane = geo.height * geo.width, out_plane = geo.out_h() * geo.out_w();
    const std::int32_t* within = offsets(index);
    std::int64_t* at = flat.mutable_data<std::int64_t>();
    for (std::int64_t o = 0; o < flat.numel(); ++o) at[o] = (o / out_plane) * in_plane + within[o];
    return std::vector<Tensor>{internal::scatter_flat(g, flat, in[0].shape())};
  };
  const auto fast = [geo, index, offsets, activation, y = fused.y](const Tensor& gy, const std::vector<Tensor>& in) {
    Tensor gx = empty(in[0].shape(), gy.dtype());
    // A node exists only when x required a gradient at the forward, so `index` was filled then.
    dispatch_floating(gy.dtype(), "max_pool2d backward", [&](auto type) {
      using T = decltype(type);
      kernels::max_pool_backward<T>(geo, gy.data<T>(), internal::kernel_activation(activation),
                                    y.defined() ? y.data<T>() : nullptr, offsets(index), gx.mutable_data<T>());
    });
    return std::vector<Tensor>{gx};
  };
  // Curvature: each output is one input element (J entries 0 or 1), so D_x = D_z routed to each window's
  // maximum, summed where windows overlap, as the gradient is, with D_z = f'(z)^2 D_y: the backward rule run on
  // D_y f'(z) (it multiplies by f'(z) once more itself).
  const auto curvature = [activation](const CurvatureInput& at) {
    const Tensor upstream =
        activation == Activation::none
            ? at.curvature
            : internal::activation_input_gradient("curvature", activation, at.curvature, at.saved[0]);
    return at.backward(upstream, at.inputs);
  };
  return record(fused.name, out, {x}, Rules{fast, recorded, curvature}, {fused.y});
}

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Activation activation) {
  return max_pool2d(x, kernel, stride, 0, activation);
}

Tensor max_pool2d(const Tensor& x, Size2 kernel) { return max_pool2d(x, kernel, kernel); }

}  // namespace ag
