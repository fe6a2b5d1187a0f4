#include "autograd/ops/max_pool.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "autograd/detail/batch_kernels.h"
#include "autograd/graph.h"

namespace ag {

namespace {

struct MaxPoolGeometry {
  std::int64_t planes = 0, height = 0, width = 0, k = 1, stride = 1;  // planes = N C
  std::int64_t out_h() const { return (height - k) / stride + 1; }
  std::int64_t out_w() const { return (width - k) / stride + 1; }
};

void check_arguments(const Tensor& x, std::int64_t k, std::int64_t s) {
  if (!x.defined()) fail("max_pool2d", "the input must be a defined tensor");
  if (x.dim() != 4) fail("max_pool2d", "expects input [N,C,H,W], got {}", shape_str(x.shape()));
  if (x.dtype() == DType::i64) fail("max_pool2d", "expects a float32 or float64 tensor, got int64: input {}", shape_str(x.shape()));
  if (k < 1 || s < 1)
    fail("max_pool2d", "kernel and stride must be at least 1, got kernel {} and stride {}: input {}", k, s,
         shape_str(x.shape()));
  if (x.size(2) * x.size(3) > std::numeric_limits<std::int32_t>::max())
    fail("max_pool2d", "maps of {}x{} are too large for its 32-bit argmax offsets: input {}", x.size(2), x.size(3),
         shape_str(x.shape()));
  if (k > x.size(2) || k > x.size(3))
    fail("max_pool2d", "kernel {}x{} is larger than the input {}x{}: input {}", k, k, x.size(2), x.size(3),
         shape_str(x.shape()));
}

// y[i,j] = x[argmax], argmax = the first maximal element of the window in row-major order. The window is
// scanned a row-major (a, b) at a time across a whole output row, with a strict > so earlier elements win ties.
// `index` (optional) gets each argmax as an offset within its plane.
template <class T>
void max_pool_forward(const MaxPoolGeometry& g, const T* x, T* y, std::int32_t* index) {
  const std::int64_t k = g.k, s = g.stride, w = g.width, oh = g.out_h(), ow = g.out_w();
  const std::int64_t in_plane = g.height * w, out_plane = oh * ow;
  const auto chunks = detail::sample_chunks(g.planes);
  for (std::int64_t ch = 0; ch < chunks.count; ++ch) {
    std::vector<std::int32_t> best_at(static_cast<std::size_t>(ow));
    for (std::int64_t plane = chunks.begin(ch); plane < chunks.end(ch); ++plane) {
      const T* xp = x + plane * in_plane;
      for (std::int64_t i = 0; i < oh; ++i) {
        T* best = y + plane * out_plane + i * ow;
        const T* top = xp + i * s * w;
        for (std::int64_t j = 0; j < ow; ++j) {
          best[j] = top[j * s];
          best_at[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(i * s * w + j * s);
        }
        for (std::int64_t a = 0; a < k; ++a)
          for (std::int64_t b = a == 0 ? 1 : 0; b < k; ++b) {
            const T* src = top + a * w + b;
            const auto offset = static_cast<std::int32_t>((i * s + a) * w + b);
            for (std::int64_t j = 0; j < ow; ++j) {
              const T v = src[j * s];
              const bool better = v > best[j];
              best[j] = better ? v : best[j];
              best_at[static_cast<std::size_t>(j)] =
                  better ? offset + static_cast<std::int32_t>(j * s) : best_at[static_cast<std::size_t>(j)];
            }
          }
        if (index) std::copy(best_at.begin(), best_at.end(), index + plane * out_plane + i * ow);
      }
    }
  }
}

// dL/dx[n,c,argmax of window (i,j)] += dL/dy[n,c,i,j]; 0 elsewhere.
template <class T>
void max_pool_backward(const MaxPoolGeometry& g, const T* gy, const std::int32_t* index, T* gx) {
  const std::int64_t in_plane = g.height * g.width, out_plane = g.out_h() * g.out_w();
  const auto chunks = detail::sample_chunks(g.planes);
  for (std::int64_t ch = 0; ch < chunks.count; ++ch)
    for (std::int64_t plane = chunks.begin(ch); plane < chunks.end(ch); ++plane) {
      T* gp = gx + plane * in_plane;
      std::fill(gp, gp + in_plane, T(0));
      const T* gyp = gy + plane * out_plane;
      const std::int32_t* ip = index + plane * out_plane;
      for (std::int64_t o = 0; o < out_plane; ++o) gp[ip[o]] += gyp[o];
    }
}

}  // namespace

Tensor max_pool2d(const Tensor& x, std::int64_t kernel, std::int64_t stride) {
  check_arguments(x, kernel, stride);
  const MaxPoolGeometry geo{x.size(0) * x.size(1), x.size(2), x.size(3), kernel, stride};
  Tensor out = empty({x.size(0), x.size(1), geo.out_h(), geo.out_w()}, x.dtype());
  // The argmax offsets, kept for the backward only when x will get a gradient.
  std::shared_ptr<std::vector<std::int32_t>> index;
  if (any_requires_grad({x}))
    index = std::make_shared<std::vector<std::int32_t>>(static_cast<std::size_t>(out.numel()));
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto type) {
    using T = decltype(type);
    max_pool_forward<T>(geo, x.data<T>(), out.data<T>(), index ? index->data() : nullptr);
  });
  // dL/dx [N,C,H,W] = dL/dy [N,C,OH,OW] routed to each window's first maximal element (summed where windows overlap)
  return record("max_pool2d", out, {x}, [geo, index](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor gx = empty(in[0].shape(), g.dtype());
    // A node exists only when x required a gradient at the forward, so `index` was filled then.
    dispatch_floating(g.dtype(), "max_pool2d backward", [&](auto type) {
      using T = decltype(type);
      max_pool_backward<T>(geo, g.data<T>(), index->data(), gx.data<T>());
    });
    return std::vector<Tensor>{gx};
  });
}

Tensor max_pool2d(const Tensor& x, std::int64_t kernel) { return max_pool2d(x, kernel, kernel); }

}  // namespace ag
