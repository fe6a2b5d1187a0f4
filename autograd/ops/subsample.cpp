#include "autograd/ops/subsample.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "autograd/detail/activation_rules.h"
#include "autograd/detail/batch_kernels.h"
#include "autograd/graph.h"

namespace ag {

namespace {

struct PoolGeometry {
  std::int64_t channels = 0, height = 0, width = 0, k = 1;
  std::int64_t out_h() const { return height / k; }
  std::int64_t out_w() const { return width / k; }
};

void check_arguments(const Tensor& x, const Tensor& coeff, const Tensor& bias, std::int64_t k) {
  if (!x.defined() || !coeff.defined()) fail("subsample", "the input and the coefficients must be defined tensors");
  const auto params = [&] {
    return fmt::format("input {}, coeff {}{}", shape_str(x.shape()), shape_str(coeff.shape()),
                       bias.defined() ? fmt::format(", bias {}", shape_str(bias.shape())) : "");
  };
  if (x.dim() != 4) fail("subsample", "expects input [N,C,H,W], got {}", params());
  const std::int64_t c = x.size(1);
  if (coeff.dim() != 1 || coeff.size(0) != c || (bias.defined() && (bias.dim() != 1 || bias.size(0) != c)))
    fail("subsample", "expects coeff [{}] and bias [{}] for {} input maps, got {}", c, c, c, params());
  if (coeff.dtype() != x.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    fail("subsample", "dtypes differ: input {} {}, coeff {} {}{}", shape_str(x.shape()), dtype_name(x.dtype()),
         shape_str(coeff.shape()), dtype_name(coeff.dtype()),
         bias.defined() ? fmt::format(", bias {} {}", shape_str(bias.shape()), dtype_name(bias.dtype())) : "");
  if (x.dtype() == DType::i64) fail("subsample", "expects float32 or float64 tensors, got int64: {}", params());
  if (k < 1) fail("subsample", "kernel must be at least 1, got {}: input {}", k, shape_str(x.shape()));
  if (x.size(2) % k != 0 || x.size(3) % k != 0)
    fail("subsample", "height {} and width {} must be divisible by the kernel {}: input {}", x.size(2), x.size(3), k,
         shape_str(x.shape()));
}

/// Returns the sum of a k x k window (rows `w` apart), in row-major order: each row summed from its first
/// element, then the row sums added from the first row.
template <class T>
inline T window_sum(const T* window, std::int64_t w, std::int64_t k) {
  T total = 0;
  for (std::int64_t a = 0; a < k; ++a) {
    T row = window[a * w];
    for (std::int64_t b = 1; b < k; ++b) row += window[a * w + b];
    total = a == 0 ? row : total + row;
  }
  return total;
}

// Forward, per sample n and map c:  s[i,j] = sum_{a,b<k} x[k i+a, k j+b] (window_sum's order; for k = 2,
// kLanes<T> windows at a time from de-interleaved rows);  y = coeff[c] s + bias[c];  s kept when the
// backward needs it.
// Samples [first, last) of the forward (one chunk). A function of its own, with its arguments as values: in a
// lambda capturing by reference, every vector store (a memcpy, which may alias anything) made the compiler
// reload the captured sizes and pointers.
template <class T>
void subsample_forward_samples(const PoolGeometry g, std::int64_t first, std::int64_t last, const T* x, const T* coeff,
                               const T* bias, T* y, T* pooled) {
  constexpr int L = detail::kLanes<T>;
  const std::int64_t k = g.k, w = g.width, oh = g.out_h(), ow = g.out_w();
  const std::int64_t in_plane = g.height * w, out_plane = oh * ow;
  for (std::int64_t n = first; n < last; ++n)
    for (std::int64_t c = 0; c < g.channels; ++c) {
      const std::int64_t plane = n * g.channels + c;
      const T cf = coeff[c], b = bias ? bias[c] : T(0);
      for (std::int64_t i = 0; i < oh; ++i) {
        const T* r0 = x + plane * in_plane + i * k * w;
        T* yrow = y + plane * out_plane + i * ow;
        T* srow = pooled ? pooled + plane * out_plane + i * ow : nullptr;
        if (k == 2 && ow >= L) {
          const T* r1 = r0 + w;
          // Blocks of L windows, the last one moved back to end at ow (recomputing a few identically).
          for (std::int64_t block = 0; block < ow; block += L) {
            const std::int64_t j = std::min<std::int64_t>(block, ow - L);
            const auto a0 = detail::load(r0 + 2 * j), a1 = detail::load(r0 + 2 * j + L);
            const auto b0 = detail::load(r1 + 2 * j), b1 = detail::load(r1 + 2 * j + L);
            const auto sums = (detail::evens<T>(a0, a1) + detail::odds<T>(a0, a1)) +
                              (detail::evens<T>(b0, b1) + detail::odds<T>(b0, b1));
            detail::store(yrow + j, detail::fmadd(detail::splat(cf), sums, detail::splat(b)));
            if (srow) detail::store(srow + j, sums);
          }
          continue;
        }
        if (k == 2) {  // narrow rows: the same sums, one window at a time
          for (std::int64_t j = 0; j < ow; ++j) {
            const T sum = (r0[2 * j] + r0[2 * j + 1]) + (r0[w + 2 * j] + r0[w + 2 * j + 1]);
            yrow[j] = detail::fmadd(cf, sum, b);
            if (srow) srow[j] = sum;
          }
          continue;
        }
        for (std::int64_t j = 0; j < ow; ++j) {
          const T sum = window_sum(r0 + j * k, w, k);
          yrow[j] = detail::fmadd(cf, sum, b);
          if (srow) srow[j] = sum;
        }
      }
    }
}

template <class T>
void subsample_forward(const PoolGeometry& g, std::int64_t batch, const T* x, const T* coeff, const T* bias,
                       Activation activation, T* y, T* pooled) {
  const auto chunks = detail::sample_chunks(batch);
  const std::int64_t out_size = g.channels * g.out_h() * g.out_w();
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    subsample_forward_samples<T>(g, chunks.begin(ch), chunks.end(ch), x, coeff, bias, y, pooled);
    // Then y = f(y) for the fused activation, while the chunk's outputs are in the cache.
    detail::activate_in_place(activation, y + chunks.begin(ch) * out_size, (chunks.end(ch) - chunks.begin(ch)) * out_size);
  }, batch * g.channels * g.height * g.width);
}

// Backward, with G = dL/dy and s the window sums:
//   dL/dx[n,c,k i+a,k j+b] = coeff[c] G[n,c,i,j];  dL/dcoeff[c] = sum_{n,i,j} G s;  dL/dbias[c] = sum_{n,i,j} G
// Samples [first, last) of the backward (one chunk), adding their dL/dcoeff and dL/dbias terms to pc and pb.
template <class T>
void subsample_backward_samples(const PoolGeometry g, std::int64_t first, std::int64_t last, const T* gy,
                                const T* coeff, const T* pooled, T* gx, T* pc, T* pb) {
  constexpr int L = detail::kLanes<T>;
  const std::int64_t k = g.k, w = g.width, oh = g.out_h(), ow = g.out_w();
  const std::int64_t in_plane = g.height * w, out_plane = oh * ow;
  const bool gcoeff = pc != nullptr, gbias = pb != nullptr;
  for (std::int64_t n = first; n < last; ++n)
    for (std::int64_t c = 0; c < g.channels; ++c) {
      const std::int64_t plane = n * g.channels + c;
      const T* gp = gy + plane * out_plane;
      if (gcoeff) pc[c] += detail::dot_lanes(gp, pooled + plane * out_plane, out_plane);
      if (gbias) pb[c] += detail::sum_lanes(gp, out_plane);
      if (!gx) continue;
      const T cf = coeff[c];
      for (std::int64_t i = 0; i < oh; ++i) {
        T* r0 = gx + plane * in_plane + i * k * w;
        const T* grow = gp + i * ow;
        if (k == 2 && ow >= L) {
          for (std::int64_t block = 0; block < ow; block += L) {
            const std::int64_t j = std::min<std::int64_t>(block, ow - L);
            const auto v = detail::splat(cf) * detail::load(grow + j);
            const auto lo = detail::twice_low<T>(v), hi = detail::twice_high<T>(v);
            detail::store(r0 + 2 * j, lo);
            detail::store(r0 + 2 * j + L, hi);
            detail::store(r0 + w + 2 * j, lo);
            detail::store(r0 + w + 2 * j + L, hi);
          }
          continue;
        }
        if (k == 2) {
          for (std::int64_t j = 0; j < ow; ++j) {
            const T v = cf * grow[j];
            r0[2 * j] = v;
            r0[2 * j + 1] = v;
            r0[w + 2 * j] = v;
            r0[w + 2 * j + 1] = v;
          }
          continue;
        }
        for (std::int64_t j = 0; j < ow; ++j) {
          const T v = cf * grow[j];
          for (std::int64_t a = 0; a < k; ++a)
            for (std::int64_t b = 0; b < k; ++b) r0[a * w + j * k + b] = v;
        }
      }
    }
}

template <class T>
void subsample_backward(const PoolGeometry& g, std::int64_t batch, const T* gy, const T* coeff, const T* pooled, T* gx,
                        T* gcoeff, T* gbias) {
  const auto chunks = detail::sample_chunks(batch);
  detail::ChunkPartials<T> part_c(chunks.count, gcoeff, gcoeff ? g.channels : 0, detail::Slot::partials_a);
  detail::ChunkPartials<T> part_b(chunks.count, gbias, gbias ? g.channels : 0, detail::Slot::partials_b);
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    subsample_backward_samples<T>(g, chunks.begin(ch), chunks.end(ch), gy, coeff, pooled, gx,
                                  gcoeff ? part_c.chunk(ch) : nullptr, gbias ? part_b.chunk(ch) : nullptr);
  }, batch * g.channels * g.height * g.width);
  part_c.reduce();
  part_b.reduce();
}

}  // namespace

Tensor subsample(const Tensor& x, const Tensor& coeff, const Tensor& bias, std::int64_t kernel, Activation activation) {
  check_arguments(x, coeff, bias, kernel);
  const PoolGeometry geo{x.size(1), x.size(2), x.size(3), kernel};
  const std::int64_t batch = x.size(0);
  const Shape out_shape{batch, geo.channels, geo.out_h(), geo.out_w()};
  Tensor out = empty(out_shape, x.dtype());
  // The window sums are what dL/dcoeff needs: kept only when coeff will get a gradient.
  Tensor pooled = any_requires_grad({coeff}) ? empty(out_shape, x.dtype()) : Tensor();
  dispatch_floating(x.dtype(), "subsample", [&](auto type) {
    using T = decltype(type);
    subsample_forward<T>(geo, batch, x.data<T>(), coeff.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                         activation, out.data<T>(), pooled.defined() ? pooled.data<T>() : nullptr);
  });
  // With a fused activation f, y = f(z) and first G = dL/dz = dL/dy f'(z), from y. Then, with G = dL/dz:
  // dL/dx [N,C,H,W] = coeff[c] G spread over each window;  dL/dcoeff [C] = sum G s;  dL/dbias [C] = sum G
  auto [name, y] = detail::fused_activation("subsample", activation, out);
  return record(name, out, {x, coeff, bias}, [geo, pooled, activation, y](const Tensor& gy, const std::vector<Tensor>& in) {
    const Tensor g = detail::activation_input_gradient("subsample backward", activation, gy, y);
    const bool need_x = in[0].requires_grad(), need_c = in[1].requires_grad();
    const bool need_b = in[2].defined() && in[2].requires_grad();
    Tensor gx = need_x ? empty(in[0].shape(), g.dtype()) : Tensor();
    Tensor gc = need_c ? empty(in[1].shape(), g.dtype()) : Tensor();
    Tensor gb = need_b ? empty(in[2].shape(), g.dtype()) : Tensor();
    dispatch_floating(g.dtype(), "subsample backward", [&](auto type) {
      using T = decltype(type);
      Tensor sums = pooled;
      if (need_c && !sums.defined()) {  // coeff was marked requires_grad after the forward: recompute the sums
        sums = empty(g.shape(), g.dtype());
        const std::vector<T> unit(static_cast<std::size_t>(geo.channels), T(1));
        Tensor scratch = empty(g.shape(), g.dtype());
        subsample_forward<T>(geo, in[0].size(0), in[0].data<T>(), unit.data(), nullptr, Activation::none,
                             scratch.data<T>(), sums.data<T>());
      }
      subsample_backward<T>(geo, in[0].size(0), g.data<T>(), in[1].data<T>(), need_c ? sums.data<T>() : nullptr,
                            need_x ? gx.data<T>() : nullptr, need_c ? gc.data<T>() : nullptr,
                            need_b ? gb.data<T>() : nullptr);
    });
    return std::vector<Tensor>{gx, gc, gb};
  });
}

}  // namespace ag
