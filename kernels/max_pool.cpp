// The max-pooling kernels: a fast path for square windows without padding (the 2 x 2, stride 2 case kLanes<T>
// windows at a time, branch-free, forward and backward), and the reference, the plain window loop for every
// shape (the tests compare the two; a reference build, and any other shape, runs the second).
#include "kernels/max_pool.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/chunks.h"
#include "kernels/parallel.h"
#include "kernels/simd.h"

namespace ag::kernels {

namespace {

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

/// The first elements of L consecutive 2-wide windows, offset + 2 l, in the lanes of the integer vector Offsets
/// (a constant vector plus one broadcast: built lane by lane from the offset, it cost the forward a third more).
template <class Offsets, int L>
inline Offsets window_starts(std::int64_t offset) {
  using Lane = std::remove_cvref_t<decltype(Offsets{}[0])>;
  Offsets lanes;  // a constant: 0, 1, ...
  for (int l = 0; l < L; ++l) lanes[l] = static_cast<Lane>(l);
  return static_cast<Lane>(offset) + 2 * lanes;
}

// The 2x2, stride 2 case (LeNet's), kLanes<T> outputs at a time without branches: the four window elements
// (0,0), (0,1), (1,0), (1,1) are de-interleaved from the two rows and compared in that order with a strict
// >, so the first maximal one wins. Writes `count` <= kLanes<T> outputs from 2 kLanes<T> values of each row
// (top, bottom), and their argmax offsets, the first at `offset`, when `at` is given.
template <class T>
inline void max_pool_block_2x2(const T* top, const T* bottom, std::int64_t offset, std::int64_t w, int count, T* y,
                               std::int32_t* at) {
  using V = Simd<T>;
  using Mask = decltype(V{} > V{});
  constexpr int L = kLanes<T>;
  const V a0 = load(top), a1 = load(top + L);
  const V b0 = load(bottom), b1 = load(bottom + L);
  const V x01 = odds<T>(a0, a1), x10 = evens<T>(b0, b1), x11 = odds<T>(b0, b1);
  V best = evens<T>(a0, a1);
  using Lane = std::remove_cvref_t<decltype(Mask{}[0])>;
  const Mask right = Mask{} + 1, below = Mask{} + static_cast<Lane>(w), below_right = below + 1;
  Mask where = Mask{};  // the winner's offset from its window's first element: 0, 1, w or w + 1
  Mask better = x01 > best;
  best = better ? x01 : best;
  where = better ? right : where;
  better = x10 > best;
  best = better ? x10 : best;
  where = better ? below : where;
  better = x11 > best;
  best = better ? x11 : best;
  where = better ? below_right : where;
  if (count == L)
    store(y, best);
  else
    for (int l = 0; l < count; ++l) y[l] = best[l];
  if (!at) return;
  const Mask offsets = window_starts<Mask, L>(offset) + where;
  if constexpr (sizeof(Lane) == sizeof(std::int32_t)) {  // float: the offsets as one vector of 32-bit lanes
    if (count == L)
      std::memcpy(at, &offsets, sizeof offsets);
    else
      for (int l = 0; l < count; ++l) at[l] = offsets[l];
  } else {
    for (int l = 0; l < count; ++l) at[l] = static_cast<std::int32_t>(offsets[l]);
  }
}

// One output row of the 2x2, stride 2 case, from input rows r0 and r0 + w; `base` is r0's offset in its plane,
// `end` the end of the input and `y_end` the end of the outputs this thread writes: rows narrower than a
// vector are read past their end, and written past it, while that stays inside.
template <class T>
void max_pool_row_2x2(const T* r0, std::int64_t base, std::int64_t w, std::int64_t ow, T* y, std::int32_t* at,
                      const T* end, const T* y_end) {
  constexpr int L = kLanes<T>;
  const T* r1 = r0 + w;
  if (ow < L) {
    // Narrower than a vector (C3's 10x10 maps): whole vectors, of which the first ow lanes are kept, read in
    // place, or at the input's end from zero-padded copies; stored whole when this thread's outputs go on
    // past the row (the following rows, written next, overwrite the extra lanes), else lane by lane.
    // (Scalar code here compiled to branches, mispredicted on every other window.)
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
void max_pool_planes(const MaxPoolShape& g, std::int64_t first, std::int64_t last, const T* x, T* y,
                     std::int32_t* index) {
  const std::int64_t w = g.width, oh = g.out_h(), ow = g.out_w(), s = g.stride_h;
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
        max_pool_row<T, K>(top, i * s * w, w, ow, s, g.kh, yrow, at);
    }
}

// The reference, for every shape: y[p,i,j] = the first maximum, in row-major window order (a strict >), of
// x[p, i sh + a - ph, j sw + b - pw] over a < kh, b < kw, skipping the rows and columns in the padding.
template <class T>
void reference_max_pool(const MaxPoolShape& g, const T* x, T* y, std::int32_t* index) {
  const std::int64_t oh = g.out_h(), ow = g.out_w();
  for (std::int64_t p = 0; p < g.planes; ++p)
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        std::int64_t where = -1;
        for (std::int64_t a = 0; a < g.kh; ++a) {
          const std::int64_t r = i * g.stride_h + a - g.pad_h;
          if (r < 0 || r >= g.height) continue;
          for (std::int64_t b = 0; b < g.kw; ++b) {
            const std::int64_t c = j * g.stride_w + b - g.pad_w;
            if (c < 0 || c >= g.width) continue;
            const std::int64_t at = r * g.width + c;
            if (where < 0 || x[p * g.height * g.width + at] > x[p * g.height * g.width + where]) where = at;
          }
        }
        y[(p * oh + i) * ow + j] = x[p * g.height * g.width + where];
        if (index) index[(p * oh + i) * ow + j] = static_cast<std::int32_t>(where);
      }
}

}  // namespace

// Forward: y[n,c,i,j] = max over the window, then the activation.
template <class T>
void max_pool_forward(const MaxPoolShape& g, const T* x, Activation activation, T* y, std::int32_t* index,
                      Implementation impl) {
  const auto chunks = sample_chunks(g.planes);
  if (impl == Implementation::reference || !g.uniform()) {
    reference_max_pool(g, x, y, index);
  } else {
    parallel_for(chunks.count, [&](std::int64_t ch) {
      const std::int64_t first = chunks.begin(ch), last = chunks.end(ch);
      if (g.kh == 2)
        max_pool_planes<T, 2>(g, first, last, x, y, index);
      else if (g.kh == 3)
        max_pool_planes<T, 3>(g, first, last, x, y, index);
      else
        max_pool_planes<T, 0>(g, first, last, x, y, index);
    }, g.planes * g.height * g.width);
  }
  activate_in_place(activation, y, g.planes * g.out_h() * g.out_w());
}

namespace {

constexpr std::int64_t kBackwardWindows = 256;  // windows whose dL/dz is formed at a time, on the stack

/// dL/dz for windows [o, o + n) into gz: dL/dy f'(z) from y, or dL/dy itself (returned) for none.
template <class T>
const T* window_gradient(Activation activation, const T* gy, const T* y, std::int64_t o, std::int64_t n, T* gz) {
  if (activation == Activation::none) return gy + o;
  activation_gradient(activation, y + o, gy + o, gz, n);
  return gz;
}

/// The kLanes<T> argmax offsets at `at` in the lanes of the kernels' integer vectors for T.
template <class T, class Offsets>
inline Offsets load_offsets(const std::int32_t* at) {
  Offsets lanes;
  if constexpr (sizeof(lanes[0]) == sizeof(std::int32_t))
    std::memcpy(&lanes, at, sizeof lanes);
  else
    for (int l = 0; l < kLanes<T>; ++l) lanes[l] = at[l];
  return lanes;
}

// The backward of 2x2, stride 2 windows that tile the map: kLanes<T> windows at a time, without branches. Each
// window's dL/dz v goes to the element its argmax offset names, and 0 to the other three: 0 + v and 0 are the
// bits that zeroing the map and then adding v give. The four results are interleaved back into the two rows
// (top, bottom: 2 kLanes<T> elements each, the first at `offset` in the plane).
template <class T>
inline void route_block_2x2(const T* gz, const std::int32_t* at, std::int64_t offset, std::int64_t w, T* top,
                            T* bottom) {
  using V = Simd<T>;
  using Offsets = decltype(V{} > V{});
  constexpr int L = kLanes<T>;
  const V v = V{} + load(gz);
  using Lane = std::remove_cvref_t<decltype(Offsets{}[0])>;
  const Offsets where = load_offsets<T, Offsets>(at) - window_starts<Offsets, L>(offset);  // 0, 1, w or w + 1
  const auto width = static_cast<Lane>(w);
  const V zero{};
  const V top_even = where == 0 ? v : zero, top_odd = where == 1 ? v : zero;
  const V bottom_even = where == width ? v : zero, bottom_odd = where == width + 1 ? v : zero;
  store(top, interleave_low<T>(top_even, top_odd));
  store(top + L, interleave_high<T>(top_even, top_odd));
  store(bottom, interleave_low<T>(bottom_even, bottom_odd));
  store(bottom + L, interleave_high<T>(bottom_even, bottom_odd));
}

// One output row's windows (route_block_2x2), ow >= kLanes<T>: blocks of kLanes<T>, the last moved back to end
// at ow (writing a few elements twice, identically).
template <class T>
void route_row_2x2(const T* gz, const std::int32_t* at, std::int64_t offset, std::int64_t w, std::int64_t ow,
                   T* top) {
  constexpr int L = kLanes<T>;
  for (std::int64_t block = 0; block < ow; block += L) {
    const std::int64_t j = std::min<std::int64_t>(block, ow - L);
    route_block_2x2(gz + j, at + j, offset + 2 * j, w, top + 2 * j, top + w + 2 * j);
  }
}

/// One plane's dL/dx for 2x2, stride 2 windows that tile it, a group of output rows at a time (their dL/dz in
/// gz, kBackwardWindows long).
template <class T>
void route_tiled_plane_2x2(const MaxPoolShape& g, Activation activation, const T* gy, const T* y, std::int64_t o0,
                           const std::int32_t* ip, T* gp, T* gz) {
  const std::int64_t w = g.width, ow = g.out_w(), oh = g.out_h();
  const std::int64_t group = std::max<std::int64_t>(1, kBackwardWindows / ow);
  for (std::int64_t i0 = 0; i0 < oh; i0 += group) {
    const std::int64_t rows = std::min(group, oh - i0);
    const T* from = window_gradient(activation, gy, y, o0 + i0 * ow, rows * ow, gz);
    for (std::int64_t i = i0; i < i0 + rows; ++i)
      route_row_2x2(from + (i - i0) * ow, ip + i * ow, 2 * i * w, w, ow, gp + 2 * i * w);
  }
}

}  // namespace

// Backward: dL/dx[n,c,argmax of window (i,j)] += dL/dz[n,c,i,j]; 0 elsewhere. With an activation, dL/dz =
// dL/dy f'(z) is formed here a few hundred windows at a time, in a vectorised pass into a buffer on the stack
// (a branch per window in the scatter itself would be mispredicted for ReLU), rather than in a tensor of its own.
// 2x2, stride 2 windows that tile the map (LeNet's) write each element once, vectorised; others scatter.
template <class T>
void max_pool_backward(const MaxPoolShape& g, const T* gy, Activation activation, const T* y,
                       const std::int32_t* index, T* gx, Implementation impl) {
  const std::int64_t in_plane = g.height * g.width, out_plane = g.out_h() * g.out_w();
  // Rows narrower than a vector (C3's 5 windows) scatter: zero-padded copies made them slower than that.
  const bool tiled_2x2 = impl == Implementation::fast && g.uniform() && g.kh == 2 && g.stride_h == 2 &&
                         g.height == 2 * g.out_h() && g.width == 2 * g.out_w() && g.out_w() >= kLanes<T> &&
                         g.out_w() <= kBackwardWindows;
  const auto chunks = sample_chunks(g.planes);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    T gz[kBackwardWindows];
    for (std::int64_t plane = chunks.begin(ch); plane < chunks.end(ch); ++plane) {
      const std::int32_t* ip = index + plane * out_plane;
      T* gp = gx + plane * in_plane;
      if (tiled_2x2) {
        route_tiled_plane_2x2(g, activation, gy, y, plane * out_plane, ip, gp, gz);
        continue;
      }
      // Any windows: dL/dx zeroed, then each window's dL/dz added at its argmax.
      std::fill(gp, gp + in_plane, T(0));
      for (std::int64_t o0 = plane * out_plane, end = o0 + out_plane; o0 < end; o0 += kBackwardWindows,
                        ip += kBackwardWindows) {
        const std::int64_t n = std::min(kBackwardWindows, end - o0);
        const T* from = window_gradient(activation, gy, y, o0, n, gz);
        for (std::int64_t o = 0; o < n; ++o) gp[ip[o]] += from[o];
      }
    }
  }, g.planes * g.height * g.width);
}

template void max_pool_forward<float>(const MaxPoolShape&, const float*, Activation, float*, std::int32_t*,
                                      Implementation);
template void max_pool_forward<double>(const MaxPoolShape&, const double*, Activation, double*, std::int32_t*,
                                       Implementation);
template void max_pool_backward<float>(const MaxPoolShape&, const float*, Activation, const float*,
                                       const std::int32_t*, float*, Implementation);
template void max_pool_backward<double>(const MaxPoolShape&, const double*, Activation, const double*,
                                        const std::int32_t*, double*, Implementation);

}  // namespace ag::kernels
