// The shifted layout's grid kernels (plan.h): each sample zero-padded into maps of width Wp, the output
// computed on a grid of width Wp whose last Wp - OW columns are dropped. Tap k = (c,ki,kj)'s row of the
// columns is the padded maps from offset k (plan.tap_offsets), so the products read it in place:
//   forward       y = bias + W col                        (panel products over each output group)
//   dL/dW         G col^T, G placed on the grid with 0 in the dropped columns (dot products, DotSums)
//   dL/dx         W^T G per input map, then each input value gathers the taps that read it (gather.h)
#include <algorithm>
#include <cstdint>

#include "kernels/conv/gather.h"
#include "kernels/conv/shifted.h"
#include "kernels/dots.h"

namespace ag::kernels {

namespace {

/// A chunk's buffers, on the thread that runs the chunk.
struct GridScratch {
  ScratchBuffer padded;           // one sample's padded maps (forward)
  ScratchBuffer sums;             // one sample's outputs on the grid [O, cols] (forward)
  ScratchBuffer dots;             // dL/dW's dot-product accumulators
  ScratchBuffer column_gradient;  // one input map's taps' rows of dL/dcol, with zero margins
};

}  // namespace

template <class T>
void grid_forward(const ConvPlan& plan, const ConvForward<T>& a) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs;
  const std::int64_t cols = grid_columns<T>(plan), wp = g.padded_w(), out_size = plan.out_size();
  const auto chunks = sample_chunks(a.batch);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    auto& scratch = thread_scratch<GridScratch>();
    T* padded = scratch.padded.get<T>(plan.padded_size);
    T* acc = scratch.sums.get<T>(outputs * cols);
    std::fill_n(padded, plan.padded_size, T(0));  // the borders and slack stay 0; pad_into writes the interior
    const RowsOf<T> rows{padded, 0, plan.tap_offsets.data()};
    for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
      pad_into(plan, a.x + n * plan.in_size(), padded);
      for (std::int64_t o = 0; o < outputs; ++o)
        std::fill(acc + o * cols, acc + (o + 1) * cols, a.bias ? a.bias[o] : T(0));
      for (const auto& group : plan.output_groups) panel_product(group, cols, a.w, taps, 1, rows, acc, cols, true);
      for (std::int64_t o = 0; o < outputs; ++o)
        for (std::int64_t i = 0; i < g.out_h; ++i)
          copy_short(acc + o * cols + i * wp, g.out_w, a.y + n * out_size + o * positions + i * g.out_w);
      activate_in_place(a.activation, a.y + n * out_size, out_size);
    }
  }, plan.work(a.batch));
}

// Each output group's dot products of G's grid rows with the shifted padded inputs, over the chunk's samples
// in order (several samples a pass with their sums in registers: DotSums::add).
template <class T>
void grid_weight_gradient(const ConvPlan& plan, const ShiftedChunk<T>& chunk, T* pw) {
  const std::int64_t cols = grid_columns<T>(plan), grid_size = plan.outputs * cols;
  GroupedDotSums<T> dots(plan.output_groups, thread_scratch<GridScratch>().dots.get<Wide<T>>(plan.dot_accumulators));
  const RowsOf<T> x_rows{chunk.padded, 0, plan.tap_offsets.data()};
  const SampleSteps samples{chunk.m, grid_size, plan.padded_size};
  dots.add([&](DotSums<T> sums, const RowGroup&) { sums.add(cols, chunk.grids, cols, x_rows, samples); });
  dots.add_into(pw, plan.geo.taps());
}

template <class T>
void grid_input_gradient(const ConvPlan& plan, const ConvBackward<T>& a, const ShiftedChunk<T>& chunk) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), taps_per_map = g.kh * g.kw, wp = g.padded_w();
  const std::int64_t cols = grid_columns<T>(plan), grid_size = plan.outputs * cols;
  // dL/dcol's rows with zero margins each side, which gather_shifted_adjoint reads; zeroed once here (the
  // products write only the rows' cols columns).
  const std::int64_t margin = shifted_adjoint_margin<T>(g, wp), dcol_ld = margin + cols + margin;
  T* dcol_rows = thread_scratch<GridScratch>().column_gradient.get<T>(taps_per_map * dcol_ld);
  for (std::int64_t k = 0; k < taps_per_map; ++k) {
    std::fill_n(dcol_rows + k * dcol_ld, margin, T(0));
    std::fill_n(dcol_rows + k * dcol_ld + margin + cols, margin, T(0));
  }
  T* dcol = dcol_rows + margin;
  for (std::int64_t n = chunk.first; n < chunk.first + chunk.m; ++n) {
    const T* grid = chunk.grids + (n - chunk.first) * grid_size;
    // Map by map, into one map's rows of dL/dcol, gathered while they are in the L1 cache.
    for (std::int64_t c = 0; c < g.channels; ++c) {
      panel_product(plan.tap_groups[static_cast<std::size_t>(c)], cols, a.w + c * taps_per_map, 1, taps,
                    RowsOf<T>{grid, cols}, dcol, dcol_ld, false);
      gather_shifted_adjoint(g, wp, dcol, dcol_ld, a.gx + n * plan.in_size() + c * g.height * g.width);
    }
  }
}

template void grid_forward<float>(const ConvPlan&, const ConvForward<float>&);
template void grid_forward<double>(const ConvPlan&, const ConvForward<double>&);
template void grid_weight_gradient<float>(const ConvPlan&, const ShiftedChunk<float>&, float*);
template void grid_weight_gradient<double>(const ConvPlan&, const ShiftedChunk<double>&, double*);
template void grid_input_gradient<float>(const ConvPlan&, const ConvBackward<float>&, const ShiftedChunk<float>&);
template void grid_input_gradient<double>(const ConvPlan&, const ConvBackward<double>&, const ShiftedChunk<double>&);

}  // namespace ag::kernels
