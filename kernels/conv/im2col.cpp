// The im2col layout (plan.h), for strides above 1 and other shapes the shifted layout does not suit: a
// chunk's m samples' channel-major columns side by side, col [K, m ld] (each sample's P positions padded to
// ld, whole vectors), and with G' [O, m ld] the chunk's output gradient laid out likewise:
//   forward       y = bias + W col                       (panel products over each output group)
//   dL/dW         sum over the chunk's columns of G' col^T (dot products, DotSums; per-chunk partial sums)
//   dL/dx         col2im(W^T G')                         (panel products per input map, then the adjoint)
#include <algorithm>
#include <cstdint>

#include "kernels/conv/plan.h"
#include "kernels/dots.h"

namespace ag::kernels {

namespace {

/// A chunk's buffers, on the thread that runs the chunk.
struct Im2colChunkScratch {
  ScratchBuffer columns;          // col [K, m ld]
  ScratchBuffer sums;             // the forward's outputs [O, m ld]
  ScratchBuffer output_gradient;  // dL/dz of the chunk's samples
  ScratchBuffer gradient;         // G' [O, m ld]
  ScratchBuffer column_gradient;  // dL/dcol [K, m ld]
  ScratchBuffer dots;             // dL/dW's dot-product accumulators
};

/// Zeroes columns [P, ld) of each of the m samples' segments in each of `rows` rows of m ld values.
template <class T>
void zero_padding(T* buffer, std::int64_t rows, std::int64_t m, std::int64_t positions, std::int64_t ld) {
  if (ld == positions) return;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t n = 0; n < m; ++n) std::fill_n(buffer + (r * m + n) * ld + positions, ld - positions, T(0));
}

/// Writes the columns of the samples [first, first + m) into col [K, m ld], padding included.
template <class T>
void chunk_columns(const ConvPlan& plan, const T* x, std::int64_t first, std::int64_t m, std::int64_t ld, T* col) {
  const std::int64_t positions = plan.geo.positions();
  zero_padding(col, plan.geo.taps(), m, positions, ld);
  for (std::int64_t n = first; n < first + m; ++n) im2col(plan.geo, x + n * plan.in_size(), col + (n - first) * ld, m * ld);
}

}  // namespace

template <class T>
void im2col_forward(const ConvPlan& plan, const ConvForward<T>& a) {
  const std::int64_t taps = plan.geo.taps(), positions = plan.geo.positions(), outputs = plan.outputs;
  const std::int64_t ld = round_up(positions, kWideLanes<T>);  // a sample's columns, padded
  const auto chunks = sample_chunks(a.batch);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), m = chunks.end(ch) - first, cols = m * ld;
    auto& scratch = thread_scratch<Im2colChunkScratch>();
    T* col = scratch.columns.get<T>(taps * cols);
    T* acc = scratch.sums.get<T>(outputs * cols);
    chunk_columns(plan, a.x, first, m, ld, col);
    for (std::int64_t o = 0; o < outputs; ++o) std::fill(acc + o * cols, acc + (o + 1) * cols, a.bias ? a.bias[o] : T(0));
    for (const auto& group : plan.output_groups)
      panel_product(group, cols, a.w, taps, 1, RowsOf<T>{col, cols}, acc, cols, true);
    for (std::int64_t n = first; n < first + m; ++n)
      for (std::int64_t o = 0; o < outputs; ++o)
        copy_short(acc + o * cols + (n - first) * ld, positions, a.y + n * plan.out_size() + o * positions);
    activate_in_place(a.activation, a.y + first * plan.out_size(), m * plan.out_size());
  }, plan.work(a.batch));
}

namespace {

/// dL/dx of the chunk's m samples from G' [O, m ld]: dL/dcol = W^T G' per input map, then col2im.
template <class T>
void input_gradient(const ConvPlan& plan, const ConvBackward<T>& a, std::int64_t first, std::int64_t m,
                    std::int64_t ld, const T* gcat) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), taps_per_map = g.kh * g.kw, cols = m * ld;
  T* dcol = thread_scratch<Im2colChunkScratch>().column_gradient.get<T>(taps * cols);
  for (std::int64_t c = 0; c < g.channels; ++c)
    panel_product(plan.tap_groups[static_cast<std::size_t>(c)], cols, a.w + c * taps_per_map, 1, taps,
                  RowsOf<T>{gcat, cols}, dcol + c * taps_per_map * cols, cols, false);
  for (std::int64_t n = first; n < first + m; ++n) {
    T* gxn = a.gx + n * plan.in_size();
    std::fill(gxn, gxn + plan.in_size(), T(0));
    col2im_add(g, dcol + (n - first) * ld, cols, gxn);
  }
}

/// One chunk's part of the backward: dL/dbias into pb, dL/dW into pw, dL/dx.
template <class T>
void backward_chunk(const ConvPlan& plan, const ConvBackward<T>& a, std::int64_t first, std::int64_t last, T* pw,
                    T* pb) {
  const std::int64_t taps = plan.geo.taps(), positions = plan.geo.positions(), outputs = plan.outputs;
  const std::int64_t out_size = plan.out_size(), m = last - first;
  const std::int64_t ld = round_up(positions, kWideLanes<T>), cols = m * ld;
  auto& scratch = thread_scratch<Im2colChunkScratch>();
  const T* gy = output_gradient(plan, a, first, last, scratch.output_gradient.get<T>(m * out_size));
  if (a.gb) add_bias_gradient(plan, m, gy, pb);
  T* gcat = scratch.gradient.get<T>(outputs * cols);
  zero_padding(gcat, outputs, m, positions, ld);
  for (std::int64_t n = 0; n < m; ++n)
    for (std::int64_t o = 0; o < outputs; ++o)
      copy_short(gy + n * out_size + o * positions, positions, gcat + o * cols + n * ld);
  if (a.gw) {
    GroupedDotSums<T> dots(plan.output_groups, scratch.dots.get<Wide<T>>(plan.dot_accumulators));
    T* col = scratch.columns.get<T>(taps * cols);
    chunk_columns(plan, a.x, first, m, ld, col);
    dots.add([&](DotSums<T> sums, const RowGroup&) { sums.add(cols, gcat, cols, RowsOf<T>{col, cols}); });
    dots.add_into(pw, taps);
  }
  if (a.gx) input_gradient(plan, a, first, m, ld, gcat);
}

}  // namespace

template <class T>
void im2col_backward(const ConvPlan& plan, const ConvBackward<T>& a) {
  backward_by_chunks(plan, a, true, [&](std::int64_t first, std::int64_t last, T* pw, T* pb) {
    backward_chunk(plan, a, first, last, pw, pb);
  });
}

template void im2col_forward<float>(const ConvPlan&, const ConvForward<float>&);
template void im2col_forward<double>(const ConvPlan&, const ConvForward<double>&);
template void im2col_backward<float>(const ConvPlan&, const ConvBackward<float>&);
template void im2col_backward<double>(const ConvPlan&, const ConvBackward<double>&);

}  // namespace ag::kernels
