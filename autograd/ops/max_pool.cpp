#include "autograd/ops/max_pool.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "autograd/detail/activation_rules.h"
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
  if (x.dtype() == DType::i64)
    fail("max_pool2d", "expects a float32 or float64 tensor, got int64: input {}", shape_str(x.shape()));
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

// One output row: y[j] = x[argmax] over the window at column j s, rows `top` onwards, with argmax the first
// maximal element in row-major window order (a strict > keeps the earlier of equal values), and at[j] its
// offset within the plane. K > 0 fixes the kernel size at compile time (so the window loops unroll and the
// j loop vectorises); K = 0 reads it from k.
template <class T, int K>
inline void max_pool_row(const T* top, std::int64_t top_offset, std::int64_t w, std::int64_t ow, std::int64_t s,
                         std::int64_t k_runtime, T* y, std::int32_t* at) {
  const std::int64_t k = K > 0 ? K : k_runtime;
  for (std::int64_t j = 0; j < ow; ++j) {
    const T* window = top + j * s;
    T best = window[0];
    std::int64_t where = 0;
    for (std::int64_t a = 0; a < k; ++a)
      for (std::int64_t b = a == 0 ? 1 : 0; b < k; ++b) {
        const T v = window[a * w + b];
        const bool better = v > best;
        best = better ? v : best;
        where = better ? a * w + b : where;
      }
    y[j] = best;
    if (at) at[j] = static_cast<std::int32_t>(top_offset + j * s + where);
  }
}

// The 2x2, stride 2 case (LeNet's), kLanes<T> outputs at a time without branches: the four window elements
// (0,0), (0,1), (1,0), (1,1) are de-interleaved from the two rows and compared in that order with a strict
// >, so the first maximal one wins. Writes `count` <= kLanes<T> outputs from 2 kLanes<T> values of each row
// (top, bottom), and their argmax offsets, the first at `offset`, when `at` is given.
template <class T>
inline void max_pool_block_2x2(const T* top, const T* bottom, std::int64_t offset, std::int64_t w, int count, T* y,
                               std::int32_t* at) {
  using V = detail::Simd<T>;
  using Mask = decltype(V{} > V{});
  constexpr int L = detail::kLanes<T>;
  const V a0 = detail::load(top), a1 = detail::load(top + L);
  const V b0 = detail::load(bottom), b1 = detail::load(bottom + L);
  const V x01 = detail::odds<T>(a0, a1), x10 = detail::evens<T>(b0, b1), x11 = detail::odds<T>(b0, b1);
  V best = detail::evens<T>(a0, a1);
  Mask code = Mask{};  // which window element won: 0..3
  Mask better = x01 > best;
  best = better ? x01 : best;
  code = better ? Mask{} + 1 : code;
  better = x10 > best;
  best = better ? x10 : best;
  code = better ? Mask{} + 2 : code;
  better = x11 > best;
  best = better ? x11 : best;
  code = better ? Mask{} + 3 : code;
  if (count == L)
    detail::store(y, best);
  else
    for (int l = 0; l < count; ++l) y[l] = best[l];
  if (!at) return;
  if constexpr (sizeof(code[0]) == sizeof(std::int32_t)) {  // float: the offsets as one vector of 32-bit lanes
    Mask lanes;
    for (int l = 0; l < L; ++l) lanes[l] = l;
    const Mask offsets =
        static_cast<std::int32_t>(offset) + 2 * lanes + (code & 1) + (code >> 1) * static_cast<std::int32_t>(w);
    if (count == L)
      std::memcpy(at, &offsets, sizeof offsets);
    else
      for (int l = 0; l < count; ++l) at[l] = offsets[l];
  } else {
    for (int l = 0; l < count; ++l) at[l] = static_cast<std::int32_t>(offset + 2 * l + (code[l] & 1) + (code[l] >> 1) * w);
  }
}

// One output row of the 2x2, stride 2 case, from input rows r0 and r0 + w; `base` is r0's offset in its plane,
// `end` the end of the input and `y_end` the end of the outputs this thread writes: rows narrower than a
// vector are read past their end, and written past it, while that stays inside.
template <class T>
void max_pool_row_2x2(const T* r0, std::int64_t base, std::int64_t w, std::int64_t ow, T* y, std::int32_t* at,
                      const T* end, const T* y_end) {
  constexpr int L = detail::kLanes<T>;
  const T* r1 = r0 + w;
  if (ow < L) {
    // Narrower than a vector (C3's 10x10 maps): whole vectors, of which the first ow lanes are kept, read in
    // place, or at the input's end from zero-padded copies; stored whole when this thread's outputs go on
    // past the row (the following rows, written next, overwrite the extra lanes), else lane by lane.
    // (Scalar code here compiled to branches, mispredicted on every other window: 8 % of a training step.)
    // (Distances rather than pointers past the end, which would be undefined even to compare.)
    const int count = y_end - y >= L ? L : static_cast<int>(ow);
    if (end - r1 >= 2 * L) {
      max_pool_block_2x2(r0, r1, base, w, count, y, at);
      return;
    }
    T top[2 * L] = {}, bottom[2 * L] = {};
    std::copy_n(r0, 2 * ow, top);
    std::copy_n(r1, 2 * ow, bottom);
    max_pool_block_2x2(top, bottom, base, w, count, y, at);
    return;
  }
  // Blocks of L outputs; the last block is moved back to end at ow, recomputing a few outputs identically.
  for (std::int64_t block = 0; block < ow; block += L) {
    const std::int64_t j = std::min<std::int64_t>(block, ow - L);
    max_pool_block_2x2(r0 + 2 * j, r1 + 2 * j, base + 2 * j, w, L, y + j, at ? at + j : nullptr);
  }
}

template <class T, int K>
void max_pool_planes(const MaxPoolGeometry& g, std::int64_t first, std::int64_t last, const T* x, T* y,
                     std::int32_t* index) {
  const std::int64_t w = g.width, oh = g.out_h(), ow = g.out_w(), s = g.stride;
  const std::int64_t in_plane = g.height * w, out_plane = oh * ow;
  const T* x_end = x + g.planes * in_plane;
  const T* y_end = y + last * out_plane;  // this chunk's outputs end here
  for (std::int64_t plane = first; plane < last; ++plane)
    for (std::int64_t i = 0; i < oh; ++i) {
      const T* top = x + plane * in_plane + i * s * w;
      T* yrow = y + plane * out_plane + i * ow;
      std::int32_t* at = index ? index + plane * out_plane + i * ow : nullptr;
      if (K == 2 && s == 2)
        max_pool_row_2x2<T>(top, i * s * w, w, ow, yrow, at, x_end, y_end);
      else
        max_pool_row<T, K>(top, i * s * w, w, ow, s, g.k, yrow, at);
    }
}

// Forward: y[n,c,i,j] = max over the window; `index` (optional) gets each argmax as an offset in its plane.
template <class T>
void max_pool_forward(const MaxPoolGeometry& g, const T* x, T* y, std::int32_t* index) {
  const auto chunks = detail::sample_chunks(g.planes);
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), last = chunks.end(ch);
    if (g.k == 2)
      max_pool_planes<T, 2>(g, first, last, x, y, index);
    else if (g.k == 3)
      max_pool_planes<T, 3>(g, first, last, x, y, index);
    else
      max_pool_planes<T, 0>(g, first, last, x, y, index);
  }, g.planes * g.height * g.width);
}

// Backward: dL/dx[n,c,argmax of window (i,j)] += dL/dy[n,c,i,j]; 0 elsewhere.
template <class T>
void max_pool_backward(const MaxPoolGeometry& g, const T* gy, const std::int32_t* index, T* gx) {
  const std::int64_t in_plane = g.height * g.width, out_plane = g.out_h() * g.out_w();
  const auto chunks = detail::sample_chunks(g.planes);
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    for (std::int64_t plane = chunks.begin(ch); plane < chunks.end(ch); ++plane) {
      T* gp = gx + plane * in_plane;
      std::fill(gp, gp + in_plane, T(0));
      const T* gyp = gy + plane * out_plane;
      const std::int32_t* ip = index + plane * out_plane;
      for (std::int64_t o = 0; o < out_plane; ++o) gp[ip[o]] += gyp[o];
    }
  }, g.planes * g.height * g.width);
}

}  // namespace

Tensor max_pool2d(const Tensor& x, std::int64_t kernel, std::int64_t stride, Activation activation) {
  check_arguments(x, kernel, stride);
  const MaxPoolGeometry geo{x.size(0) * x.size(1), x.size(2), x.size(3), kernel, stride};
  Tensor out = empty({x.size(0), x.size(1), geo.out_h(), geo.out_w()}, x.dtype());
  // The argmax offsets, kept for the backward only when x will get a gradient: 32-bit integers in the bytes
  // of a float32 tensor of the same count, so that they come from (and return to) the storage cache.
  const Tensor index = any_requires_grad({x}) ? empty({out.numel()}, DType::f32) : Tensor();
  const auto offsets = [](const Tensor& t) { return reinterpret_cast<std::int32_t*>(t.impl()->storage.get()); };
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto type) {
    using T = decltype(type);
    max_pool_forward<T>(geo, x.data<T>(), out.data<T>(), index.defined() ? offsets(index) : nullptr);
    detail::activate_in_place(activation, out.data<T>(), out.numel());  // a quarter of the input's values
  });
  // With an activation f, y = f(z) for the pooled z, and first G = dL/dz = dL/dy f'(z), from y. Then
  // dL/dx [N,C,H,W] = G [N,C,OH,OW] routed to each window's first maximal element (summed where windows overlap)
  auto [name, y] = detail::fused_activation("max_pool2d", activation, out);
  return record(name, out, {x}, [geo, index, offsets, activation, y](const Tensor& gy, const std::vector<Tensor>& in) {
    const Tensor g = detail::activation_input_gradient("max_pool2d backward", activation, gy, y);
    Tensor gx = empty(in[0].shape(), g.dtype());
    // A node exists only when x required a gradient at the forward, so `index` was filled then.
    dispatch_floating(g.dtype(), "max_pool2d backward", [&](auto type) {
      using T = decltype(type);
      max_pool_backward<T>(geo, g.data<T>(), offsets(index), gx.data<T>());
    });
    return std::vector<Tensor>{gx};
  });
}

Tensor max_pool2d(const Tensor& x, std::int64_t kernel) { return max_pool2d(x, kernel, kernel); }

}  // namespace ag
