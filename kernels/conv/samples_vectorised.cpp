// The shifted layout's kernels vectorised over the samples (plan.h; LeNet-5's C3 with Table I from batch L =
// kWideLanes<T> on). The register kernels are in samples_vectorised.h; this file runs them over a batch:
//   forward  whole blocks of L samples transposed to [C, H, W, L]; each output map sums over the input maps
//            it reads (sample_row), its [P, L] block activated and transposed back into the outputs. The
//            samples past the last whole block take the path over the maps, which gives the same bits.
//   backward blocks of L samples (the last one part empty): dL/dz transposed to [O, OH, OW, L]; for dL/dx
//            each input map sums over the output maps that read it (sample_input_row), transposed back; for
//            dL/dW each connected pair's taps summed lane-wise (sample_weight_rows), the lanes added at the
//            end, and the blocks' sums added in order.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/conv/plan.h"
#include "kernels/conv/samples_vectorised.h"
#include "kernels/conv/specialised_shapes.h"
#include "kernels/transpose.h"

namespace ag::kernels {

namespace {

/// A chunk's buffers, on the thread that runs the chunk.
struct SamplesScratch {
  ScratchBuffer inputs;     // a block's inputs transposed [C, H, W, L] (forward, dL/dW)
  ScratchBuffer block;      // one map's values for the block: an output map's [P, L], an input map's [H W, L]
  ScratchBuffer gradient;   // the block's dL/dz [m][O, P] when an activation is applied (backward)
  ScratchBuffer gradients;  // the block's dL/dz transposed [O, P, L] (backward)
  ScratchBuffer tap_sums;   // a map pair's kh kw vectors of sums (dL/dW)
};

/// A call's buffers, on the thread that makes the call.
struct SamplesCallScratch {
  ScratchBuffer weights, bias;  // dL/dW's and dL/dbias's partial sums per block
};

/// Returns the output maps [begin, end) of part `part` of `parts`, cut where the connections read so far
/// pass an equal share of them, so that the parts cost about the same.
std::pair<std::int64_t, std::int64_t> map_range(const ConvPlan& plan, std::int64_t part, std::int64_t parts) {
  std::int64_t total = 0;
  for (const auto& reads : plan.inputs_of) total += static_cast<std::int64_t>(reads.size());
  const auto cut = [&](std::int64_t k) {  // the first map at which k / parts of the connections are read
    std::int64_t o = 0, seen = 0;
    while (o < plan.outputs && seen * parts < k * total) seen += static_cast<std::int64_t>(plan.inputs_of[o++].size());
    return o;
  };
  return {part == 0 ? 0 : cut(part), part + 1 == parts ? plan.outputs : cut(part + 1)};
}

}  // namespace

template <class T>
void samples_vectorised_forward(const ConvPlan& plan, const ConvForward<T>& a) {
  constexpr std::int64_t L = kWideLanes<T>;
  const ConvGeometry& g = plan.geo;
  const std::int64_t blocks = a.batch / L, in_size = plan.in_size(), out_size = plan.out_size();
  const std::int64_t positions = g.positions(), taps = g.taps();
  // One block alone is cut in two by output maps, so that two threads share it; the bits do not depend on it.
  const std::int64_t parts = blocks == 1 ? parts_of_lone_block() : 1;
  parallel_for(blocks * parts, [&](std::int64_t chunk) {
    const std::int64_t n0 = chunk / parts * L;
    const auto [first_map, end_map] = map_range(plan, chunk % parts, parts);
    auto& scratch = thread_scratch<SamplesScratch>();
    T* xs = scratch.inputs.get<T>(in_size * L);
    T* block = scratch.block.get<T>(positions * L);
    transpose_rows_into_block(a.x + n0 * in_size, in_size, L, xs);
    with_row_kernel_shape(g.out_w, g.kw, [&](auto ow, auto kw) {
      constexpr int OW = decltype(ow)::value, KW = decltype(kw)::value;
      for (std::int64_t o = first_map; o < end_map; ++o) {
        const auto& reads = plan.inputs_of[static_cast<std::size_t>(o)];
        const T bias = a.bias ? a.bias[o] : T(0);
        for (std::int64_t i = 0; i < g.out_h; ++i)
          sample_row<T, OW, KW>(reads.data(), static_cast<std::int64_t>(reads.size()), g.kh, g.height * g.width * L,
                                g.width * L, a.w + o * taps, xs + i * g.width * L, bias, block + i * OW * L);
        activate_in_place(a.activation, block, positions * L);
        transpose_block_into(block, positions, L, a.y + n0 * out_size + o * positions, out_size);
      }
    });
  }, plan.work(blocks * L));
  if (blocks * L == a.batch) return;
  ConvForward<T> rest = a;
  rest.batch = a.batch - blocks * L;
  rest.x = a.x + blocks * L * in_size;
  rest.y = a.y + blocks * L * out_size;
  maps_vectorised_forward(plan, rest);
}

/// Returns the block's dL/dz transposed to [O, P, L], in scratch; the lanes of samples past the batch are 0.
template <class T>
const T* transposed_gradient(const ConvPlan& plan, const ConvBackward<T>& a, std::int64_t n0, std::int64_t m,
                             SamplesScratch& scratch) {
  const std::int64_t out_size = plan.out_size();
  const T* gz = output_gradient(plan, a, n0, n0 + m, scratch.gradient.get<T>(m * out_size));
  T* gt = scratch.gradients.get<T>(out_size * kWideLanes<T>);
  transpose_rows_into_block(gz, out_size, m, gt);
  return gt;
}

/// Writes dL/dx of the block's m samples for the input maps [first, end), from its transposed dL/dz.
template <class T, int OW, int KW>
void block_input_gradient(const ConvPlan& plan, const ConvBackward<T>& a, std::int64_t n0, std::int64_t m,
                          std::int64_t first, std::int64_t end, const T* gt, T* block) {
  constexpr std::int64_t L = kWideLanes<T>;
  const ConvGeometry& g = plan.geo;
  const std::int64_t map_size = g.height * g.width;
  for (std::int64_t c = first; c < end; ++c) {
    const auto& readers = plan.readers_of[static_cast<std::size_t>(c)];
    for (std::int64_t y = 0; y < g.height; ++y) {
      // Input row y is row ki of the receptive fields of output rows y - ki in [0, OH).
      const std::int64_t ki_begin = std::max<std::int64_t>(0, y - g.out_h + 1), ki_end = std::min(g.kh, y + 1);
      sample_input_row<T, OW, KW>(readers.data(), static_cast<std::int64_t>(readers.size()), y, ki_begin, ki_end,
                                  g.positions() * L, g.taps(), a.w + c * g.kh * g.kw, gt,
                                  block + y * g.width * L);
    }
    transpose_block_into(block, map_size, m, a.gx + n0 * plan.in_size() + c * map_size, plan.in_size());
  }
}

/// Adds out[t] += the sum of acc[t]'s lanes, for t < count.
template <class T>
void add_lane_sums(const Wide<T>* acc, std::int64_t count, T* out) {
  constexpr std::int64_t L = kWideLanes<T>;
  for (std::int64_t t0 = 0; t0 < count; t0 += L) {
    Wide<T> v[L] = {};
    for (std::int64_t t = t0; t < std::min(count, t0 + L); ++t) v[t - t0] = acc[t];
    const Wide<T> sums = sum_lanes_each<T>(v);
    for (std::int64_t t = t0; t < std::min(count, t0 + L); ++t) out[t] += sums[t - t0];
  }
}

/// Adds the block's dL/dW (to pw, when not null) and dL/dbias (to pb) for the output maps [first, end), from
/// its inputs transposed (xs) and its transposed dL/dz: each map's lanes summed once at the end.
template <class T, int OW, int KW>
void block_weight_gradient(const ConvPlan& plan, std::int64_t first, std::int64_t end, const T* xs, const T* gt,
                           Wide<T>* acc, T* pw, T* pb) {
  constexpr std::int64_t L = kWideLanes<T>;
  const ConvGeometry& g = plan.geo;
  const std::int64_t per_map = g.kh * g.kw, positions = g.positions();
  for (std::int64_t o = first; o < end; ++o) {
    const T* go = gt + o * positions * L;
    if (pw)
      for (const std::int64_t c : plan.inputs_of[static_cast<std::size_t>(o)]) {
        std::fill_n(acc, per_map, Wide<T>{});
        for (std::int64_t ki0 = 0; ki0 < g.kh; ki0 += kSampleWeightRows)
          with_count<kSampleWeightRows>(std::min<std::int64_t>(kSampleWeightRows, g.kh - ki0), [&](auto rows) {
            sample_weight_rows<T, OW, KW, decltype(rows)::value>(g.out_h, g.width * L,
                                                                 xs + (c * g.height + ki0) * g.width * L, go,
                                                                 acc + ki0 * KW);
          });
        add_lane_sums(acc, per_map, pw + o * g.taps() + c * per_map);
      }
    if (pb) {
      const Wide<T> total = sum_wide_vectors(go, positions);
      add_lane_sums(&total, 1, pb + o);
    }
  }
}

template <class T>
void samples_vectorised_backward(const ConvPlan& plan, const ConvBackward<T>& a, bool inputs, bool weights) {
  constexpr std::int64_t L = kWideLanes<T>;
  const ConvGeometry& g = plan.geo;
  const std::int64_t blocks = (a.batch + L - 1) / L, in_size = plan.in_size();
  T* gx = inputs ? a.gx : nullptr;
  T* gw = weights ? a.gw : nullptr;
  T* gb = weights ? a.gb : nullptr;
  // dL/dW and dL/dbias summed per block of samples, the blocks added in order: the bits depend on the batch only.
  auto& call = thread_scratch<SamplesCallScratch>();
  ChunkPartials<T> part_w(blocks, gw, gw ? plan.outputs * g.taps() : 0, call.weights);
  ChunkPartials<T> part_b(blocks, gb, gb ? plan.outputs : 0, call.bias);
  // One block alone is cut in two (input maps for dL/dx, output maps for dL/dW), so that two threads share it;
  // each map's values are computed whole in one part, so the bits do not depend on it.
  const std::int64_t parts = blocks == 1 ? parts_of_lone_block() : 1;
  parallel_for(blocks * parts, [&](std::int64_t chunk) {
    const std::int64_t block = chunk / parts, part = chunk % parts, n0 = block * L, m = std::min(L, a.batch - n0);
    auto& scratch = thread_scratch<SamplesScratch>();
    const T* gt = transposed_gradient(plan, a, n0, m, scratch);
    T* xs = nullptr;
    if (gw) {
      xs = scratch.inputs.get<T>(in_size * L);
      transpose_rows_into_block(a.x + n0 * in_size, in_size, m, xs);
    }
    with_row_kernel_shape(g.out_w, g.kw, [&](auto ow, auto kw) {
      constexpr int OW = decltype(ow)::value, KW = decltype(kw)::value;
      if (gx)
        block_input_gradient<T, OW, KW>(plan, a, n0, m, part * g.channels / parts, (part + 1) * g.channels / parts,
                                        gt, scratch.block.get<T>(g.height * g.width * L));
      if (gw || gb) {
        const auto [first, end] = map_range(plan, part, parts);
        block_weight_gradient<T, OW, KW>(plan, first, end, xs, gt, scratch.tap_sums.get<Wide<T>>(g.kh * g.kw),
                                         gw ? part_w.chunk(block) : nullptr, gb ? part_b.chunk(block) : nullptr);
      }
    });
  }, 3 * plan.work(a.batch));
  part_w.reduce();
  part_b.reduce();
}

template void samples_vectorised_forward<float>(const ConvPlan&, const ConvForward<float>&);
template void samples_vectorised_forward<double>(const ConvPlan&, const ConvForward<double>&);
template void samples_vectorised_backward<float>(const ConvPlan&, const ConvBackward<float>&, bool, bool);
template void samples_vectorised_backward<double>(const ConvPlan&, const ConvBackward<double>&, bool, bool);

}  // namespace ag::kernels
