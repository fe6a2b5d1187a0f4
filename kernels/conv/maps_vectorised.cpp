// The shifted layout's kernels vectorised over the output maps (plan.h; LeNet-5's C3): one vector holds L =
// kWideLanes<T> maps of a position, so no grid column is wasted. The register kernels are in
// maps_vectorised.h; this file runs them over a batch:
//   forward       per sample and each L maps, direct_conv, with W packed [O/L][K][L] once per call
//   dL/dW         per chunk and each L maps, every tap's sums from G transposed to [P, L] (and dL/dbias)
//   dL/dx         per sample and each L maps, from G transposed and W packed likewise
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/conv/maps_vectorised.h"
#include "kernels/conv/shifted.h"

namespace ag::kernels {

namespace {

/// A call's buffers, on the thread that makes the call (read by all).
struct MapsCallScratch {
  ScratchBuffer weights, bias;  // W and the biases packed for direct_conv
};

/// A chunk's buffers, on the thread that runs the chunk.
struct MapsChunkScratch {
  ScratchBuffer padded;       // one sample's padded maps (forward)
  ScratchBuffer block;        // one sample's outputs for L maps [P, L] (forward)
  ScratchBuffer tap_sums;     // dL/dW's K vector sums for L maps
  ScratchBuffer weight_rows;  // those sums transposed to [maps, K]
};

/// W [O,K] as wt [O/L][K][L] for direct_conv and direct_input_gradient (L = kWideLanes<T>; 0 for the maps
/// past O and for the taps a map does not read through the table), and, when wbias is not null, the biases
/// as wbias [O rounded up to L] (0 past O or without).
template <class T>
void pack_weights(const ConvPlan& plan, const T* w, const T* bias, T* wt, T* wbias) {
  constexpr std::int64_t L = kWideLanes<T>;
  const std::int64_t outputs = plan.outputs, taps = plan.geo.taps(), taps_per_map = plan.geo.kh * plan.geo.kw;
  for (std::int64_t o0 = 0; o0 < outputs; o0 += L)  // L x L register transposes; lanes past O are 0
    transpose_rows_into_block(w + o0 * taps, taps, std::min(L, outputs - o0), wt + o0 * taps);
  for (std::int64_t o = 0; o < outputs; ++o)
    for (std::int64_t c = 0; c < plan.geo.channels; ++c)
      if (!plan.reads(o, c))
        for (std::int64_t k = c * taps_per_map; k < (c + 1) * taps_per_map; ++k) wt[(o / L * taps + k) * L + o % L] = 0;
  if (wbias)
    for (std::int64_t o = 0; o < round_up(outputs, L); ++o) wbias[o] = o < outputs && bias ? bias[o] : T(0);
}

}  // namespace

template <class T>
void maps_vectorised_forward(const ConvPlan& plan, const ConvForward<T>& a) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), outputs = plan.outputs, out_size = plan.out_size();
  const std::int64_t padded_outputs = round_up(outputs, kWideLanes<T>);
  auto& call = thread_scratch<MapsCallScratch>();
  T* wt = call.weights.get<T>(padded_outputs * taps);
  T* wbias = call.bias.get<T>(padded_outputs);
  pack_weights(plan, a.w, a.bias, wt, wbias);
  const auto chunks = sample_chunks(a.batch);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    auto& scratch = thread_scratch<MapsChunkScratch>();
    T* padded = scratch.padded.get<T>(plan.padded_size);
    T* block = scratch.block.get<T>(g.positions() * kWideLanes<T>);
    std::fill_n(padded, plan.padded_size, T(0));  // the borders and slack stay 0; pad_into writes the interior
    for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
      pad_into(plan, a.x + n * plan.in_size(), padded);
      direct_conv(g, g.padded_w(), plan.tap_offsets.data(), padded, wt, wbias, outputs, block, a.y + n * out_size);
      activate_in_place(a.activation, a.y + n * out_size, out_size);
    }
  }, plan.work(a.batch));
}

template <class T>
void transpose_output_gradient(const ConvPlan& plan, std::int64_t m, const T* gy, T* gt) {
  constexpr std::int64_t L = kWideLanes<T>;
  const std::int64_t positions = plan.geo.positions(), outputs = plan.outputs, out_size = plan.out_size();
  for (std::int64_t o0 = 0; o0 < outputs; o0 += L)
    for (std::int64_t n = 0; n < m; ++n)
      transpose_rows_into_block(gy + n * out_size + o0 * positions, positions, std::min(L, outputs - o0),
                                gt + (o0 / L * m + n) * positions * L);
}

// For each L maps: every tap's sums over the chunk's samples (direct_weight_gradient), transposed to rows
// [maps, K] and added to the connected (map, tap) pairs (unconnected ones keep their 0); dL/dbias from the
// same transposed G, in four interleaved partial sums (a fixed order) so that the adds do not wait on one
// another.
template <class T>
void maps_vectorised_weight_gradient(const ConvPlan& plan, const ShiftedChunk<T>& chunk, T* pw, T* pb) {
  constexpr std::int64_t L = kWideLanes<T>;
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), taps_per_map = g.kh * g.kw, positions = g.positions(), m = chunk.m;
  auto& scratch = thread_scratch<MapsChunkScratch>();
  auto* acc = scratch.tap_sums.get<Wide<T>>(taps);
  T lanes[L];
  for (std::int64_t o0 = 0; o0 < plan.outputs; o0 += L) {
    const std::int64_t maps = std::min(L, plan.outputs - o0);
    const T* gt = chunk.transposed + o0 / L * m * positions * L;
    std::fill_n(acc, taps, Wide<T>{});
    direct_weight_gradient(g, g.padded_w(), m, chunk.padded, plan.padded_size, plan.tap_offsets.data(), gt,
                           positions * L, acc);
    T* rows = scratch.weight_rows.get<T>(maps * taps);
    transpose_block_into(reinterpret_cast<const T*>(acc), taps, maps, rows);
    for (std::int64_t l = 0; l < maps; ++l)
      for (std::int64_t c = 0; c < g.channels; ++c)
        if (plan.reads(o0 + l, c))
          for (std::int64_t k = c * taps_per_map; k < (c + 1) * taps_per_map; ++k)
            pw[(o0 + l) * taps + k] += rows[l * taps + k];
    if (!pb) continue;
    const Wide<T> bias_sum = sum_wide_vectors(gt, m * positions);
    std::memcpy(lanes, &bias_sum, sizeof lanes);
    for (std::int64_t l = 0; l < maps; ++l) pb[o0 + l] += lanes[l];
  }
}

template <class T>
const T* pack_input_weights(const ConvPlan& plan, const T* w, ScratchBuffer& buffer) {
  T* packed = buffer.get<T>(round_up(plan.outputs, kWideLanes<T>) * plan.geo.taps());
  pack_weights(plan, w, static_cast<const T*>(nullptr), packed, static_cast<T*>(nullptr));
  return packed;
}

// Per sample, each L maps' share of dL/dx from their transposed G and the packed weights.
template <class T>
void maps_vectorised_input_gradient(const ConvPlan& plan, const ConvBackward<T>& a, const ShiftedChunk<T>& chunk,
                                    const T* packed_w) {
  constexpr std::int64_t L = kWideLanes<T>;
  const std::int64_t positions = plan.geo.positions(), taps = plan.geo.taps();
  for (std::int64_t n = chunk.first; n < chunk.first + chunk.m; ++n)
    for (std::int64_t o0 = 0; o0 < plan.outputs; o0 += L)
      direct_input_gradient(plan.geo, chunk.transposed + (o0 / L * chunk.m + (n - chunk.first)) * positions * L,
                            packed_w + o0 * taps, a.gx + n * plan.in_size(), o0 > 0);
}

#define LENETGRAD_MAPS_VECTORISED(T)                                                                              \
  template void maps_vectorised_forward<T>(const ConvPlan&, const ConvForward<T>&);                             \
  template void transpose_output_gradient<T>(const ConvPlan&, std::int64_t, const T*, T*);                      \
  template void maps_vectorised_weight_gradient<T>(const ConvPlan&, const ShiftedChunk<T>&, T*, T*);            \
  template const T* pack_input_weights<T>(const ConvPlan&, const T*, ScratchBuffer&);                           \
  template void maps_vectorised_input_gradient<T>(const ConvPlan&, const ConvBackward<T>&, const ShiftedChunk<T>&, \
                                                  const T*);
LENETGRAD_MAPS_VECTORISED(float)
LENETGRAD_MAPS_VECTORISED(double)
#undef LENETGRAD_MAPS_VECTORISED

}  // namespace ag::kernels
