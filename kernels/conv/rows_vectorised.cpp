// The shifted layout's kernels vectorised along the output rows (plan.h; LeNet-5's C1: few output maps, wide
// rows). The register kernels are in rows_vectorised.h; this file runs them over a batch:
//   forward       per sample, row_vectorised_conv (an unpadded input read in place)
//   dL/dW         per chunk, add_row_vectorised_weight_gradient (and dL/dbias, from G as it reads it)
// dL/dx keeps the grid (grid.cpp).
#include <algorithm>
#include <cstdint>

#include "kernels/conv/rows_vectorised.h"
#include "kernels/conv/shifted.h"

namespace ag::kernels {

namespace {

/// A chunk's buffers, on the thread that runs the chunk.
struct RowsScratch {
  ScratchBuffer padded;  // one sample's padded maps (forward, when padded)
};

}  // namespace

template <class T>
void rows_vectorised_forward(const ConvPlan& plan, const ConvForward<T>& a) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t out_size = plan.out_size();
  const std::uint8_t* table = plan.table.empty() ? nullptr : plan.table.data();
  const auto chunks = sample_chunks(a.batch);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    // Unpadded inputs are read in place; padded ones copied into zero-bordered maps first.
    T* padded = g.padding() > 0 ? thread_scratch<RowsScratch>().padded.get<T>(plan.padded_size) : nullptr;
    if (padded) std::fill_n(padded, plan.padded_size, T(0));
    const std::int64_t in_w = padded ? g.padded_w() : g.width;
    const std::int64_t map_step = padded ? g.padded_h() * g.padded_w() : g.height * g.width;
    for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
      if (padded) pad_into(plan, a.x + n * plan.in_size(), padded);
      row_vectorised_conv(g, plan.outputs, table, padded ? padded : a.x + n * plan.in_size(), map_step, in_w, a.w,
                          a.bias, a.y + n * out_size);
      activate_in_place(a.activation, a.y + n * out_size, out_size);
    }
  }, plan.work(a.batch));
}

template <class T>
void rows_vectorised_weight_gradient(const ConvPlan& plan, const ConvBackward<T>& a, const ShiftedChunk<T>& chunk,
                                     T* pw, T* pb) {
  const ConvGeometry& g = plan.geo;
  const bool in_place = chunk.padded == nullptr;  // unpadded: x itself
  add_row_vectorised_weight_gradient(g, plan.outputs, plan.table.empty() ? nullptr : plan.table.data(), chunk.m,
                                     in_place ? a.x + chunk.first * plan.in_size() : chunk.padded,
                                     in_place ? plan.in_size() : plan.padded_size,
                                     in_place ? g.height * g.width : g.padded_h() * g.padded_w(),
                                     in_place ? g.width : g.padded_w(), chunk.gy, pw, pb);
}

template void rows_vectorised_forward<float>(const ConvPlan&, const ConvForward<float>&);
template void rows_vectorised_forward<double>(const ConvPlan&, const ConvForward<double>&);
template void rows_vectorised_weight_gradient<float>(const ConvPlan&, const ConvBackward<float>&,
                                                     const ShiftedChunk<float>&, float*, float*);
template void rows_vectorised_weight_gradient<double>(const ConvPlan&, const ConvBackward<double>&,
                                                      const ShiftedChunk<double>&, double*, double*);

}  // namespace ag::kernels
