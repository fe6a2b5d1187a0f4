// The patch-major layout (plan.h), for outputs of few positions without a table (LeNet-5's C5: a 5x5
// kernel over 5x5 maps, one output position). Row (n,p) of the columns is the receptive field of position
// p of sample n, contiguous (x itself when the field is the whole input), so each output is a dot product of
// a weight row with a field, and the products run over rows (n,p):
//   forward       y[(n,p), o] = bias[o] + col[(n,p), :] . W[o, :]
//   dL/dx         dcol = G' W, added back where col took it from     (G' [(n,p), O] the output gradient)
//   dL/dW         G'^T col, over the whole batch's rows in order
#include <algorithm>
#include <cstdint>

#include "kernels/conv/plan.h"
#include "kernels/dots.h"
#include "kernels/row_lanes_product.h"
#include "kernels/transpose.h"

namespace ag::kernels {

namespace {

/// A call's buffers, on the thread that makes the call (read by all).
struct PatchMajorCallScratch {
  ScratchBuffer weights;       // W transposed [K, ldo], or its rows padded to whole vectors [O, ld]
  ScratchBuffer batch_g;       // G' [(n,p), O] of the whole batch
  ScratchBuffer batch_fields;  // col [(n,p), K] of the whole batch (unless x is its own col)
};

/// A chunk's buffers, on the thread that runs the chunk.
struct PatchMajorChunkScratch {
  ScratchBuffer fields;           // the chunk's receptive fields
  ScratchBuffer sums;             // the chunk's outputs [rows, ldo]
  ScratchBuffer output_gradient;  // dL/dz of the chunk's samples
  ScratchBuffer field_gradient;   // dL/dcol of the chunk's rows
};

/// y's rows (n,p) for the samples [first, last): col W^T (wt [K, ldo] transposed once per call), vectorised
/// over the O maps, each a sum over k in order.
template <class T>
void forward_transposed(const ConvPlan& plan, const ConvForward<T>& a, const T* wt, std::int64_t first,
                        std::int64_t last) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs;
  const std::int64_t ldo = round_up(outputs, kWideLanes<T>), rows = (last - first) * positions;
  auto& scratch = thread_scratch<PatchMajorChunkScratch>();
  T* acc = scratch.sums.get<T>(rows * ldo);  // row (n,p): its ldo maps
  // Row (n,p): the receptive field of position p; the samples themselves when that is the whole input.
  const T* col = a.x + first * plan.in_size();
  if (!g.patch_is_input()) {
    T* fields = scratch.fields.get<T>(rows * taps);
    for (std::int64_t n = first; n < last; ++n)
      im2col_patches(g, a.x + n * plan.in_size(), fields + (n - first) * positions * taps, taps);
    col = fields;
  }
  rows_times_transposed(rows, taps, col, taps, wt, outputs, ldo, a.bias, acc);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t n = first + r / positions, p = r % positions;
    for (std::int64_t o = 0; o < outputs; ++o) a.y[n * plan.out_size() + o * positions + p] = acc[r * ldo + o];
  }
}

/// y's rows (n,p) for the samples [first, last) as dot products of W's rows (wrows [O, ld], ld whole
/// vectors) with the receptive fields, lane-wise, for few rows (where transposing W would cost as much): pairs
/// of rows by dot_block, a lone row (C5 at batch 1) by dots_with_row.
template <class T>
void forward_dots(const ConvPlan& plan, const ConvForward<T>& a, const T* wrows, std::int64_t ld, std::int64_t first,
                  std::int64_t last) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs;
  const std::int64_t rows = (last - first) * positions;
  // Row (n,p): the receptive field of position p, ld wide; the samples themselves when that is the whole
  // input and already whole vectors.
  const T* col = a.x + first * plan.in_size();
  if (!g.patch_is_input() || ld != taps) {
    T* fields = thread_scratch<PatchMajorChunkScratch>().fields.get<T>(rows * ld);
    for (std::int64_t n = first; n < last; ++n)
      im2col_patches(g, a.x + n * plan.in_size(), fields + (n - first) * positions * ld, ld);
    if (ld != taps)
      for (std::int64_t r = 0; r < rows; ++r) std::fill(fields + r * ld + taps, fields + (r + 1) * ld, T(0));
    col = fields;
  }
  const T* ap[kDotCallRows<T>];
  const T* bp[kDotRowsB];
  T out[kDotCallOutputs<T>];
  for (std::int64_t r0 = 0; r0 < rows; r0 += kDotRowsB) {
    const int rv = static_cast<int>(std::min<std::int64_t>(kDotRowsB, rows - r0));
    for (int v = 0; v < rv; ++v) bp[v] = col + (r0 + v) * ld;
    const std::int64_t block = dot_rows_per_call<T>(rv);
    for (std::int64_t o0 = 0; o0 < outputs; o0 += block) {
      const int ru = static_cast<int>(std::min<std::int64_t>(block, outputs - o0));
      for (int u = 0; u < ru; ++u) ap[u] = wrows + (o0 + u) * ld;
      dot_products(ld, ap, ru, bp, rv, out);
      for (int v = 0; v < rv; ++v) {
        const std::int64_t row = first * positions + r0 + v, n = row / positions, p = row % positions;
        for (int u = 0; u < ru; ++u)
          a.y[n * plan.out_size() + (o0 + u) * positions + p] = out[u * rv + v] + (a.bias ? a.bias[o0 + u] : T(0));
      }
    }
  }
}

/// W's rows padded with zeros to ld = whole vectors (into `padded`), or W itself when K is already.
template <class T>
const T* weight_rows(const ConvPlan& plan, const T* w, std::int64_t ld, ScratchBuffer& padded) {
  const std::int64_t taps = plan.geo.taps();
  if (ld == taps) return w;
  T* rows = padded.get<T>(plan.outputs * ld);
  for (std::int64_t o = 0; o < plan.outputs; ++o) {
    std::copy_n(w + o * taps, taps, rows + o * ld);
    std::fill(rows + o * ld + taps, rows + (o + 1) * ld, T(0));
  }
  return rows;
}

}  // namespace

// A field that is the whole input (C5), from kRowsForRowLanes<T> samples: vectorised over the samples, W read
// as stored (row_lanes_product). Other fields, many rows (n,p) (kRowsForTransposedWeights): their fields times
// W^T, transposed once per call. Fewer: dot products of W's rows, which need no transposition.
template <class T>
void patch_major_forward(const ConvPlan& plan, const ConvForward<T>& a) {
  const auto chunks = sample_chunks(a.batch);
  auto& call = thread_scratch<PatchMajorCallScratch>();
  const std::int64_t taps = plan.geo.taps();
  if (plan.geo.patch_is_input() && a.batch >= kRowsForRowLanes<T>) {
    row_lanes_product(a.batch, taps, a.x, a.w, plan.outputs, a.bias, a.y, plan.out_size());
    activate_in_place(a.activation, a.y, a.batch * plan.out_size());
    return;
  }
  if (a.batch * plan.geo.positions() >= kRowsForTransposedWeights) {
    const std::int64_t ldo = round_up(plan.outputs, kWideLanes<T>);
    T* wt = call.weights.get<T>(taps * ldo);
    transpose_weights(a.w, plan.outputs, taps, ldo, wt);
    parallel_for(chunks.count, [&](std::int64_t ch) {
      forward_transposed(plan, a, wt, chunks.begin(ch), chunks.end(ch));
      activate_in_place(a.activation, a.y + chunks.begin(ch) * plan.out_size(),
                        (chunks.end(ch) - chunks.begin(ch)) * plan.out_size());
    }, plan.work(a.batch));
    return;
  }
  const std::int64_t ld = round_up(taps, kWideLanes<T>);
  const T* wrows = weight_rows(plan, a.w, ld, call.weights);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    forward_dots(plan, a, wrows, ld, chunks.begin(ch), chunks.end(ch));
    activate_in_place(a.activation, a.y + chunks.begin(ch) * plan.out_size(),
                      (chunks.end(ch) - chunks.begin(ch)) * plan.out_size());
  }, plan.work(a.batch));
}

namespace {

/// One chunk's part of the backward: its rows of G' and col into the whole batch's buffers (batch_g,
/// batch_col or null when x is its own col), dL/dbias into pb, and dL/dx.
template <class T>
void backward_chunk(const ConvPlan& plan, const ConvBackward<T>& a, std::int64_t first, std::int64_t last,
                    T* batch_g, T* batch_col, T* pb) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs;
  const std::int64_t rows = (last - first) * positions, out_size = plan.out_size(), in_size = plan.in_size();
  auto& scratch = thread_scratch<PatchMajorChunkScratch>();
  // With one output position, G' [(n,p),O] is G's own layout: the activation's gradient goes straight there.
  T* gt = batch_g + first * positions * outputs;
  const bool g_in_place = positions == 1;
  const T* gy = output_gradient(plan, a, first, last,
                                g_in_place ? gt : scratch.output_gradient.get<T>((last - first) * out_size));
  if (a.gb) add_bias_gradient(plan, last - first, gy, pb);
  if (g_in_place && gy != gt)
    std::copy_n(gy, rows * outputs, gt);
  else if (!g_in_place)
    for (std::int64_t n = first; n < last; ++n)
      for (std::int64_t o = 0; o < outputs; ++o)
        for (std::int64_t p = 0; p < positions; ++p)
          gt[((n - first) * positions + p) * outputs + o] = gy[(n - first) * out_size + o * positions + p];
  if (batch_col)
    for (std::int64_t n = first; n < last; ++n) im2col_patches(g, a.x + n * in_size, batch_col + n * positions * taps);
  if (!a.gx || g.patch_is_input()) return;  // dL/dx of a whole-input field: after the chunks, for all rows at once
  // dL/dcol = G' W.
  T* dcol = scratch.field_gradient.get<T>(rows * taps);
  rows_times_weights(rows, outputs, taps, gt, a.w, dcol, taps);
  for (std::int64_t n = first; n < last; ++n) {
    T* gxn = a.gx + n * in_size;
    std::fill(gxn, gxn + in_size, T(0));
    col2im_patches_add(g, dcol + (n - first) * positions * taps, gxn);
  }
}

}  // namespace

// The chunks' rows of G' and col go into whole-batch buffers; then dL/dW = G'^T col over all of them, the
// maps split over the threads: no partial sums per chunk to write and add; into gw or, block by block, to the
// sink.
template <class T>
void patch_major_backward(const ConvPlan& plan, const ConvBackward<T>& a) {
  const std::int64_t taps = plan.geo.taps(), positions = plan.geo.positions();
  auto& call = thread_scratch<PatchMajorCallScratch>();
  T* batch_g = call.batch_g.get<T>(a.batch * positions * plan.outputs);
  const bool weights = a.gw || a.w_sink;
  T* batch_col = weights && !plan.geo.patch_is_input() ? call.batch_fields.get<T>(a.batch * positions * taps) : nullptr;
  backward_by_chunks(plan, a, false, [&](std::int64_t first, std::int64_t last, T*, T* pb) {
    backward_chunk(plan, a, first, last, batch_g, batch_col, pb);
  });
  // dL/dx = G' W when x is its own col (C5): for all rows at once, each row of W read by the thread whose
  // optimizer update writes it (rows_times_weights_on_threads).
  if (a.gx && plan.geo.patch_is_input())
    rows_times_weights_on_threads(a.batch, plan.outputs, taps, batch_g, a.w, a.gx, taps);
  if (weights)
    weight_gradient_by_rows(a.batch * positions, plan.outputs, taps, batch_g, batch_col ? batch_col : a.x, a.gw,
                            a.w_sink);
}

template void patch_major_forward<float>(const ConvPlan&, const ConvForward<float>&);
template void patch_major_forward<double>(const ConvPlan&, const ConvForward<double>&);
template void patch_major_backward<float>(const ConvPlan&, const ConvBackward<float>&);
template void patch_major_backward<double>(const ConvPlan&, const ConvBackward<double>&);

}  // namespace ag::kernels
