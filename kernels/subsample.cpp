// The sub-sampling kernels: a fast path (2 x 2 windows kLanes<T> at a time from de-interleaved rows), and the
// reference, plain loops over the definition (the tests compare the two; a reference build runs the second).
#include "kernels/subsample.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/chunks.h"
#include "kernels/parallel.h"
#include "kernels/reductions.h"
#include "kernels/simd.h"

namespace ag::kernels {

namespace {

/// The work of one input element in parallel_for's units (kernels/parallel.h): with the window's adds, the
/// multiply-add and the fused activation's share of an output (a tanh is some 25 operations for 4 inputs),
/// or in the backward the gradient's stores and the coefficient's dot product, about 4 element operations.
/// S4 at batch 16 (25,600 inputs) is then worth a second thread: its inputs were made by both threads, each
/// half in its own core's cache, and reading all of them on one core costs more than handing half over.
constexpr std::int64_t kWorkPerInput = 4;

/// A call's buffers, on the thread that makes the call.
struct SubsampleScratch {
  ScratchBuffer coeff_sums, bias_sums;  // dL/dcoeff's and dL/dbias's partial sums per chunk
};

/// A chunk's buffer, on the thread that runs the chunk.
struct SubsampleChunkScratch {
  ScratchBuffer gradient;  // the chunk's G = dL/dz when an activation is applied (backward)
};

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

/// One block of L = kLanes<T> 2 x 2 windows: the windows of input rows r0 and r1 from their first value on
/// (2 L values each), s = (x00 + x01) + (x10 + x11) lane by lane (window_sum's order), y = coeff s + bias into
/// yrow, and s into srow when it is kept.
template <class T>
inline void window_block(const T* r0, const T* r1, const Simd<T>& coefficient, const Simd<T>& offset, T* yrow,
                         T* srow) {
  constexpr int L = kLanes<T>;
  const auto a0 = load(r0), a1 = load(r0 + L), b0 = load(r1), b1 = load(r1 + L);
  const auto sums = (evens<T>(a0, a1) + odds<T>(a0, a1)) + (evens<T>(b0, b1) + odds<T>(b0, b1));
  store(yrow, fmadd(coefficient, sums, offset));
  if (srow) store(srow, sums);
}

/// One plane of 2 x 2 windows whose output rows are narrower than a vector (LeNet-5's S4: rows of 5): each row
/// one window_block whose lanes past ow read the rows after it and write into the next output row (written after
/// it). The per-row loop of subsample_forward_samples computes the same; this one keeps the plane's pointers and
/// constants in registers. The caller checks that the last row's block stays within the chunk.
template <class T>
void narrow_plane_forward(const T* r0, std::int64_t w, std::int64_t oh, std::int64_t ow, T cf, T b, T* yrow, T* srow) {
  const auto coefficient = splat(cf), offset = splat(b);
  for (std::int64_t i = 0; i < oh; ++i, r0 += 2 * w, yrow += ow) {
    window_block(r0, r0 + w, coefficient, offset, yrow, srow);
    if (srow) srow += ow;
  }
}

// Forward, per sample n and map c:  s[i,j] = sum_{a,b<k} x[k i+a, k j+b] (window_sum's order; for k = 2,
// kLanes<T> windows at a time from de-interleaved rows);  y = coeff[c] s + bias[c];  s kept when the
// backward needs it.
// Samples [first, last) of the forward (one chunk). A function of its own, with its arguments as values: in a
// lambda capturing by reference, every vector store (a memcpy, which may alias anything) made the compiler
// reload the captured sizes and pointers.
template <class T>
void subsample_forward_samples(const SubsampleShape g, std::int64_t first, std::int64_t last, const T* x, const T* coeff,
                               const T* bias, T* y, T* pooled) {
  constexpr int L = kLanes<T>;
  const std::int64_t k = g.k, w = g.width, oh = g.out_h(), ow = g.out_w();
  const std::int64_t in_plane = g.height * w, out_plane = oh * ow;
  // Where the chunk's inputs and outputs end (narrow rows' vectors stop there), as offsets from x and y.
  const std::int64_t x_end = last * g.channels * in_plane, y_end = last * g.channels * out_plane;
  for (std::int64_t n = first; n < last; ++n)
    for (std::int64_t c = 0; c < g.channels; ++c) {
      const std::int64_t plane = n * g.channels + c;
      const T cf = coeff[c], b = bias ? bias[c] : T(0);
      if (k == 2 && ow < L && plane * in_plane + (oh - 1) * 2 * w + w + 2 * L <= x_end &&
          plane * out_plane + (oh - 1) * ow + L <= y_end) {
        narrow_plane_forward(x + plane * in_plane, w, oh, ow, cf, b, y + plane * out_plane,
                             pooled ? pooled + plane * out_plane : nullptr);
        continue;
      }
      for (std::int64_t i = 0; i < oh; ++i) {
        const T* r0 = x + plane * in_plane + i * k * w;
        T* yrow = y + plane * out_plane + i * ow;
        T* srow = pooled ? pooled + plane * out_plane + i * ow : nullptr;
        if (k == 2 && (ow >= L || ((r0 - x) + w + 2 * L <= x_end && (yrow - y) + L <= y_end))) {
          const T* r1 = r0 + w;
          // Blocks of L windows, the last one moved back to end at ow (recomputing a few identically). A row
          // narrower than L (LeNet-5's S4) is one block whose lanes past ow read the rows after it and write
          // into the next output row, which is written after this one (so never past the chunk's end).
          for (std::int64_t block = 0; block < ow; block += L) {
            const std::int64_t j = ow >= L ? std::min<std::int64_t>(block, ow - L) : 0;
            window_block(r0 + 2 * j, r1 + 2 * j, splat(cf), splat(b), yrow + j, srow ? srow + j : nullptr);
          }
          continue;
        }
        if (k == 2) {  // a narrow row at the chunk's end: the same sums, one window at a time
          for (std::int64_t j = 0; j < ow; ++j) {
            const T sum = (r0[2 * j] + r0[2 * j + 1]) + (r0[w + 2 * j] + r0[w + 2 * j + 1]);
            yrow[j] = fmadd(cf, sum, b);
            if (srow) srow[j] = sum;
          }
          continue;
        }
        for (std::int64_t j = 0; j < ow; ++j) {
          const T sum = window_sum(r0 + j * k, w, k);
          yrow[j] = fmadd(cf, sum, b);
          if (srow) srow[j] = sum;
        }
      }
    }
}

template <class T>
void fast_forward(const SubsampleShape& g, std::int64_t batch, const T* x, const T* coeff, const T* bias,
                  Activation activation, T* y, T* pooled) {
  const auto chunks = sample_chunks(batch);
  const std::int64_t out_size = g.channels * g.out_h() * g.out_w();
  parallel_for(chunks.count, [&](std::int64_t ch) {
    subsample_forward_samples<T>(g, chunks.begin(ch), chunks.end(ch), x, coeff, bias, y, pooled);
    // Then y = f(y) for the fused activation, while the chunk's outputs are in the cache.
    activate_in_place(activation, y + chunks.begin(ch) * out_size, (chunks.end(ch) - chunks.begin(ch)) * out_size);
  }, kWorkPerInput * batch * g.channels * g.height * g.width);
}

// Backward, with G = dL/dz (dL/dy f'(z) with an activation) and s the window sums:
//   dL/dx[n,c,k i+a,k j+b] = coeff[c] G[n,c,i,j];  dL/dcoeff[c] = sum_{n,i,j} G s;  dL/dbias[c] = sum_{n,i,j} G
// Samples [first, last) of the backward (one chunk), from the chunk's G (gz, from sample `first` on), adding
// their dL/dcoeff and dL/dbias terms to pc and pb.
template <class T>
void subsample_backward_samples(const SubsampleShape g, std::int64_t first, std::int64_t last, const T* gz,
                                const T* coeff, const T* pooled, T* gx, T* pc, T* pb) {
  constexpr int L = kLanes<T>;
  const std::int64_t k = g.k, w = g.width, oh = g.out_h(), ow = g.out_w();
  const std::int64_t in_plane = g.height * w, out_plane = oh * ow;
  const bool gcoeff = pc != nullptr, gbias = pb != nullptr;
  // Where the chunk's gradients end (narrow rows' vectors stop there), as offsets from gz and gx.
  const std::int64_t gz_end = (last - first) * g.channels * out_plane, gx_end = last * g.channels * in_plane;
  for (std::int64_t n = first; n < last; ++n)
    for (std::int64_t c = 0; c < g.channels; ++c) {
      const std::int64_t plane = n * g.channels + c;
      const T* gp = gz + ((n - first) * g.channels + c) * out_plane;
      if (gcoeff) pc[c] += dot_lanes(gp, pooled + plane * out_plane, out_plane);
      if (gbias) pb[c] += sum_lanes(gp, out_plane);
      if (!gx) continue;
      const T cf = coeff[c];
      for (std::int64_t i = 0; i < oh; ++i) {
        T* r0 = gx + plane * in_plane + i * k * w;
        const T* grow = gp + i * ow;
        if (k == 2 && (ow >= L || ((grow - gz) + L <= gz_end && (r0 - gx) + w + 2 * L <= gx_end))) {
          // As in the forward: a row narrower than L is one block, its lanes past ow written into the rows
          // after it, which are written after this one.
          for (std::int64_t block = 0; block < ow; block += L) {
            const std::int64_t j = ow >= L ? std::min<std::int64_t>(block, ow - L) : 0;
            const auto v = splat(cf) * load(grow + j);
            const auto lo = twice_low<T>(v), hi = twice_high<T>(v);
            store(r0 + 2 * j, lo);
            store(r0 + 2 * j + L, hi);
            store(r0 + w + 2 * j, lo);
            store(r0 + w + 2 * j + L, hi);
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

// Per chunk: its G = dL/dy f'(z) into this thread's scratch (with an activation), then its samples' gradients.
template <class T>
void fast_backward(const SubsampleShape& g, std::int64_t batch, const SubsampleOutputGradient<T>& gy, const T* coeff,
                   const T* pooled, T* gx, T* gcoeff, T* gbias) {
  const auto chunks = sample_chunks(batch);
  const std::int64_t out_size = g.channels * g.out_h() * g.out_w();
  auto& scratch = thread_scratch<SubsampleScratch>();
  ChunkPartials<T> part_c(chunks.count, gcoeff, gcoeff ? g.channels : 0, scratch.coeff_sums);
  ChunkPartials<T> part_b(chunks.count, gbias, gbias ? g.channels : 0, scratch.bias_sums);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), last = chunks.end(ch), values = (last - first) * out_size;
    const T* gz = gy.gy + first * out_size;
    if (gy.activation != Activation::none) {
      T* chunk_gz = thread_scratch<SubsampleChunkScratch>().gradient.get<T>(values);
      activation_gradient(gy.activation, gy.y + first * out_size, gz, chunk_gz, values);
      gz = chunk_gz;
    }
    subsample_backward_samples<T>(g, first, last, gz, coeff, pooled, gx, gcoeff ? part_c.chunk(ch) : nullptr,
                                  gbias ? part_b.chunk(ch) : nullptr);
  }, kWorkPerInput * batch * g.channels * g.height * g.width);
  part_c.reduce();
  part_b.reduce();
}

// y = f(coeff[c] s + bias[c]), s each window's sum in row-major order (window_sum).
template <class T>
void reference_forward(const SubsampleShape& g, std::int64_t batch, const T* x, const T* coeff, const T* bias,
                       Activation activation, T* y, T* pooled) {
  const std::int64_t oh = g.out_h(), ow = g.out_w();
  for (std::int64_t plane = 0; plane < batch * g.channels; ++plane)
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        const std::int64_t c = plane % g.channels, at = (plane * oh + i) * ow + j;
        const T s = window_sum(x + (plane * g.height + i * g.k) * g.width + j * g.k, g.width, g.k);
        y[at] = coeff[c] * s + (bias ? bias[c] : T(0));
        if (pooled) pooled[at] = s;
      }
  activate_in_place(activation, y, batch * g.channels * oh * ow);
}

// dL/dx = coeff[c] G at each of the window's k k inputs;  dL/dcoeff[c] = sum G s;  dL/dbias[c] = sum G
template <class T>
void reference_backward(const SubsampleShape& g, std::int64_t batch, const SubsampleOutputGradient<T>& output,
                        const T* coeff, const T* pooled, T* gx, T* gcoeff, T* gbias) {
  const std::int64_t oh = g.out_h(), ow = g.out_w();
  // G = dL/dy f'(z), from the output y, for the whole batch first.
  std::vector<T> gz;
  if (output.activation != Activation::none) {
    gz.resize(static_cast<std::size_t>(batch * g.channels * oh * ow));
    activation_gradient(output.activation, output.y, output.gy, gz.data(), static_cast<std::int64_t>(gz.size()));
  }
  const T* gy = gz.empty() ? output.gy : gz.data();
  if (gcoeff) std::fill_n(gcoeff, g.channels, T(0));
  if (gbias) std::fill_n(gbias, g.channels, T(0));
  for (std::int64_t plane = 0; plane < batch * g.channels; ++plane)
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        const std::int64_t c = plane % g.channels, at = (plane * oh + i) * ow + j;
        if (gcoeff) gcoeff[c] += gy[at] * pooled[at];
        if (gbias) gbias[c] += gy[at];
        if (!gx) continue;
        for (std::int64_t a = 0; a < g.k; ++a)
          for (std::int64_t b = 0; b < g.k; ++b)
            gx[(plane * g.height + i * g.k + a) * g.width + j * g.k + b] = coeff[c] * gy[at];
      }
}

}  // namespace

template <class T>
void subsample_forward(const SubsampleShape& shape, std::int64_t batch, const T* x, const T* coeff, const T* bias,
                       Activation activation, T* y, T* pooled, Implementation impl) {
  if (impl == Implementation::reference)
    reference_forward(shape, batch, x, coeff, bias, activation, y, pooled);
  else
    fast_forward(shape, batch, x, coeff, bias, activation, y, pooled);
}

template <class T>
void subsample_backward(const SubsampleShape& shape, std::int64_t batch, const SubsampleOutputGradient<T>& gy,
                        const T* coeff, const T* pooled, T* gx, T* gcoeff, T* gbias, Implementation impl) {
  if (impl == Implementation::reference)
    reference_backward(shape, batch, gy, coeff, pooled, gx, gcoeff, gbias);
  else
    fast_backward(shape, batch, gy, coeff, pooled, gx, gcoeff, gbias);
}

#define LENETGRAD_SUBSAMPLE(T)                                                                                    \
  template void subsample_forward<T>(const SubsampleShape&, std::int64_t, const T*, const T*, const T*, Activation, \
                                     T*, T*, Implementation);                                                      \
  template void subsample_backward<T>(const SubsampleShape&, std::int64_t, const SubsampleOutputGradient<T>&,      \
                                      const T*, const T*, T*, T*, T*, Implementation);
LENETGRAD_SUBSAMPLE(float)
LENETGRAD_SUBSAMPLE(double)
#undef LENETGRAD_SUBSAMPLE

}  // namespace ag::kernels
