// The shifted layout's backward (plan.h), chunk by chunk of samples: dL/dz from the activation, then what the
// plan's dL/dW and dL/dx kernels read (G on the grid, the padded inputs, G transposed for the maps-vectorised
// kernels), built once while the chunk is in the cache, then the two kernels (shifted.h). dL/dW and dL/dbias
// are summed per chunk and the chunks added in order.
#include <algorithm>
#include <cstdint>

#include "kernels/conv/shifted.h"

namespace ag::kernels {

namespace {

/// A call's buffers, on the thread that makes the call.
struct ShiftedCallScratch {
  ScratchBuffer packed_weights;  // W packed for the maps-vectorised dL/dx
};

/// A chunk's buffers, on the thread that runs the chunk.
struct ShiftedChunkScratch {
  ScratchBuffer output_gradient, grids, padded, transposed;  // see ShiftedChunk
};

/// Returns the chunk of samples [first, last) with what `paths` need built: G on the grid for a grid
/// kernel, the padded inputs for dL/dW (unless read in place), G transposed for a maps-vectorised kernel.
template <class T>
ShiftedChunk<T> prepare_chunk(const ConvPlan& plan, const ConvPaths& paths, const ConvBackward<T>& a,
                              std::int64_t first, std::int64_t last) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t out_size = plan.out_size(), cols = grid_columns<T>(plan), grid_size = plan.outputs * cols;
  auto& scratch = thread_scratch<ShiftedChunkScratch>();
  ShiftedChunk<T> chunk{first, last - first};
  // When dL/dW along the rows is all that reads G (no dL/dx, as for a first layer), that kernel forms G from
  // dL/dy and y a few samples at a time; otherwise the chunk's G is formed here for every kernel.
  if (a.activation != Activation::none && a.gw && !a.gx && paths.weights == ShiftedKernel::along_rows) {
    chunk.gy = a.g_out + first * out_size;
    chunk.y = a.y + first * out_size;
  } else {
    chunk.gy = output_gradient(plan, a, first, last, scratch.output_gradient.get<T>(chunk.m * out_size));
  }
  const bool on_grid = (a.gw && paths.weights == ShiftedKernel::grid) || (a.gx && paths.inputs == ShiftedKernel::grid);
  const bool x_in_place = paths.weights == ShiftedKernel::along_rows && g.padding() == 0;
  const bool transposed =
      (a.gw && paths.weights == ShiftedKernel::over_maps) || (a.gx && paths.inputs == ShiftedKernel::over_maps);
  T* grids = on_grid ? scratch.grids.get<T>(chunk.m * grid_size) : nullptr;
  T* padded = a.gw && !x_in_place ? scratch.padded.get<T>(chunk.m * plan.padded_size) : nullptr;
  if (transposed) {
    T* gt = scratch.transposed.get<T>(round_up(plan.outputs, kWideLanes<T>) * chunk.m * g.positions());
    transpose_output_gradient(plan, chunk.m, chunk.gy, gt);
    chunk.transposed = gt;
  }
  if (grids) std::fill_n(grids, chunk.m * grid_size, T(0));
  if (padded) std::fill_n(padded, chunk.m * plan.padded_size, T(0));
  for (std::int64_t n = 0; n < chunk.m; ++n) {
    if (grids)
      for (std::int64_t o = 0; o < plan.outputs; ++o)
        for (std::int64_t i = 0; i < g.out_h; ++i)
          copy_short(chunk.gy + n * out_size + o * g.positions() + i * g.out_w, g.out_w,
                     grids + n * grid_size + o * cols + i * g.padded_w());
    if (padded) pad_into(plan, a.x + (first + n) * plan.in_size(), padded + n * plan.padded_size);
  }
  chunk.grids = grids;
  chunk.padded = padded;
  return chunk;
}

/// One chunk's part of the backward: dL/dbias into pb, dL/dW into pw, dL/dx. The kernels along the rows and
/// over the maps sum dL/dbias with dL/dW, from G as they read it.
template <class T>
void backward_chunk(const ConvPlan& plan, const ConvPaths& paths, const ConvBackward<T>& a, std::int64_t first,
                    std::int64_t last, T* pw, T* pb, const T* packed_w) {
  const ShiftedChunk<T> chunk = prepare_chunk(plan, paths, a, first, last);
  const bool bias_with_weights = a.gw && paths.weights != ShiftedKernel::grid;
  if (a.gb && !bias_with_weights) add_bias_gradient(plan, chunk.m, chunk.gy, pb);
  T* pb_with_weights = a.gb ? pb : nullptr;
  if (a.gw && paths.weights == ShiftedKernel::along_rows)
    rows_vectorised_weight_gradient(plan, a, chunk, pw, pb_with_weights);
  else if (a.gw && paths.weights == ShiftedKernel::over_maps)
    maps_vectorised_weight_gradient(plan, chunk, pw, pb_with_weights);
  else if (a.gw)
    grid_weight_gradient(plan, chunk, pw);
  if (a.gx && paths.inputs == ShiftedKernel::over_maps)
    maps_vectorised_input_gradient(plan, a, chunk, packed_w);
  else if (a.gx)
    grid_input_gradient(plan, a, chunk);
}

}  // namespace

template <class T>
void shifted_backward(const ConvPlan& plan, const ConvBackward<T>& a) {
  ConvPaths paths = plan.paths<T>();
  ConvBackward<T> rest = a;  // what the chunks compute
  const bool inputs = paths.inputs == ShiftedKernel::over_samples, weights = paths.weights == ShiftedKernel::over_samples;
  if (a.batch < kWideLanes<T>) {  // fewer samples than a vector holds: over the maps instead
    if (inputs) paths.inputs = ShiftedKernel::over_maps;
    if (weights) paths.weights = ShiftedKernel::over_maps;
  } else if (inputs || weights) {
    // Over the samples, in blocks of samples of their own; the chunks compute the rest.
    samples_vectorised_backward(plan, a, inputs, weights);
    if (inputs) rest.gx = nullptr;
    if (weights) rest.gw = rest.gb = nullptr;
  }
  if (!rest.gx && !rest.gw && !rest.gb) return;
  const T* packed_w = rest.gx && paths.inputs == ShiftedKernel::over_maps
                          ? pack_input_weights(plan, a.w, thread_scratch<ShiftedCallScratch>().packed_weights)
                          : nullptr;
  backward_by_chunks(plan, rest, true, [&](std::int64_t first, std::int64_t last, T* pw, T* pb) {
    backward_chunk(plan, paths, rest, first, last, pw, pb, packed_w);
  });
}

template void shifted_backward<float>(const ConvPlan&, const ConvBackward<float>&);
template void shifted_backward<double>(const ConvPlan&, const ConvBackward<double>&);

}  // namespace ag::kernels
