// The shifted layout's kernels vectorised along the output rows (plan.h; LeNet-5's C1: few output maps, wide
// rows). The register kernels are in rows_vectorised.h; this file runs them over a batch:
//   forward       per sample, row_vectorised_conv (an unpadded input read in place)
//   dL/dW         per chunk, add_row_vectorised_weight_gradient (and dL/dbias, from G as it reads it); when
//                 nothing else reads the chunk's G, it forms G from dL/dy and y itself, a few samples at a time
// dL/dx keeps the grid (grid.cpp).
#include <algorithm>
#include <cstdint>

#include "kernels/conv/rows_vectorised.h"
#include "kernels/conv/shifted.h"

namespace ag::kernels {

namespace {

/// A chunk's buffers, on the thread that runs the chunk.
struct RowsScratch {
  ScratchBuffer padded;          // one sample's padded maps (forward, when padded)
  ScratchBuffer weight_sums;     // dL/dW's vector sums for one output map, [C, KH, KW] (dL/dW)
  ScratchBuffer formed_gradient;  // G = dL/dy f'(y) of one output map for a block of samples (dL/dW)
};

/// The samples whose G the weight gradient forms at a time, from dL/dy and y: one C1 map of 8 samples is 25 KB,
/// so it is written and read again in the first-level cache.
constexpr std::int64_t kFormedGradientSamples = 8;

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
  auto& scratch = thread_scratch<RowsScratch>();
  OutputGradientSource<T> source{chunk.gy};
  if (chunk.y) {  // chunk.gy is dL/dy: G is formed here
    source.y = chunk.y;
    source.activation = a.activation;
    source.block_samples = kFormedGradientSamples;
    source.buffer = scratch.formed_gradient.get<T>(kFormedGradientSamples * g.positions());
  }
  add_row_vectorised_weight_gradient(g, plan.outputs, plan.table.empty() ? nullptr : plan.table.data(), chunk.m,
                                     in_place ? a.x + chunk.first * plan.in_size() : chunk.padded,
                                     in_place ? plan.in_size() : plan.padded_size,
                                     in_place ? g.height * g.width : g.padded_h() * g.padded_w(),
                                     in_place ? g.width : g.padded_w(), source,
                                     scratch.weight_sums.get<Wide<T>>(g.channels * g.taps()), pw, pb);
}

template void rows_vectorised_forward<float>(const ConvPlan&, const ConvForward<float>&);
template void rows_vectorised_forward<double>(const ConvPlan&, const ConvForward<double>&);
template void rows_vectorised_weight_gradient<float>(const ConvPlan&, const ConvBackward<float>&,
                                                     const ShiftedChunk<float>&, float*, float*);
template void rows_vectorised_weight_gradient<double>(const ConvPlan&, const ConvBackward<double>&,
                                                      const ShiftedChunk<double>&, double*, double*);

}  // namespace ag::kernels
