#pragma once
/// How one conv2d call computes: its layout and paths (chosen by choose_paths in plan.cpp), the tables its
/// paths read, each path's entry points (one file each in this folder), and what the paths share.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/activation.h"
#include "kernels/chunks.h"
#include "kernels/conv/geometry.h"
#include "kernels/conv2d.h"
#include "kernels/products.h"
#include "kernels/reductions.h"
#include "kernels/simd.h"

namespace ag::kernels {

/// How the unrolled input (the columns, geometry.h) of a call is laid out:
///  - reference: none; plain loops over the definition (reference.cpp), the path every other one is tested
///    against, the only one in a build with LENETGRAD_REFERENCE_KERNELS, and the one for the geometries the
///    others do not serve (strides or paddings that differ between the axes, dilation);
///  - patch_major: each output a dot product of a weight row with a contiguous receptive field, for outputs
///    of few positions without a table (LeNet-5's C5: 1x1 outputs) (patch_major.cpp);
///  - shifted: for stride 1, each sample zero-padded into maps of width Wp; tap (c,ki,kj)'s row of the
///    columns is then the padded map shifted by ki Wp + kj, so nothing is unrolled (ShiftedKernel says how
///    each product runs);
///  - im2col: the channel-major columns written out, a chunk's samples side by side (im2col.cpp).
enum class ConvLayout { reference, patch_major, shifted, im2col };

/// How one product of the shifted layout runs:
///  - grid: register-blocked products on the output grid of width Wp, whose last Wp - OW columns are
///    computed and dropped (grid.cpp);
///  - over_maps: vectorised over the output maps, one vector holding a position's maps, so no grid columns
///    are wasted (maps_vectorised.cpp; LeNet-5's C3);
///  - along_rows: vectorised along the output rows, for few output maps (rows_vectorised.cpp; LeNet-5's C1);
///  - over_samples: vectorised over the samples, each output map reading only its connected input maps
///    (and each input map's gradient only the output maps that read it), for a connection table without
///    padding, from a whole vector of samples on; smaller batches run over the maps (samples_vectorised.cpp;
///    LeNet-5's C3 with Table I).
enum class ShiftedKernel { grid, over_maps, along_rows, over_samples };

/// The paths of one call for one element type: the layout and, in the shifted layout, the kernel of the
/// forward, of dL/dW (with dL/dbias) and of dL/dx.
struct ConvPaths {
  ConvLayout layout = ConvLayout::reference;
  ShiftedKernel forward = ShiftedKernel::grid;
  ShiftedKernel weights = ShiftedKernel::grid;
  ShiftedKernel inputs = ShiftedKernel::grid;
};

/// Outputs of fewer positions than this (and no table) take the patch-major layout.
inline constexpr std::int64_t kPatchMajorBelow = 16;

/// Everything the paths need to know about one call's shape, shared by its backward. Cached by shape
/// (conv_plan), so a training step builds none.
struct ConvPlan {
  ConvGeometry geo;
  std::int64_t outputs = 0;
  ConvPaths float_paths, double_paths;
  std::vector<RowGroup> output_groups;  // rows o of weight and output, each summing over some taps k
  std::vector<RowGroup> tap_groups;     // per input map c: its taps' rows c kh kw + r of the columns'
                                        // gradient as r < kh kw (relative to the map's first tap),
                                        // each summing over the maps o that read c
  std::int64_t dot_accumulators = 0;    // vectors of DotSums accumulators over all output_groups
  // The shifted layout: the output grid's positions, the padded maps' size and each tap's offset in them.
  std::int64_t grid = 0, padded_size = 0;
  std::vector<std::int64_t> tap_offsets;
  std::vector<std::uint8_t> table;  // the connection table's entries, empty without one
  std::vector<std::vector<std::int64_t>> inputs_of;   // per output map, the input maps it reads, in order
  std::vector<std::vector<std::int64_t>> readers_of;  // per input map, the output maps that read it, in order

  /// Returns the paths for element type T.
  template <class T>
  const ConvPaths& paths() const {
    return sizeof(T) == sizeof(float) ? float_paths : double_paths;
  }
  /// Returns true when output map o reads input map c (always, without a table).
  bool reads(std::int64_t o, std::int64_t c) const {
    return table.empty() || table[static_cast<std::size_t>(o * geo.channels + c)] != 0;
  }
  /// Returns the values of one sample's input (C H W) and output (O OH OW).
  std::int64_t in_size() const { return geo.channels * geo.height * geo.width; }
  std::int64_t out_size() const { return outputs * geo.positions(); }
  /// Returns an estimate of one pass's multiply-adds over `batch` samples, for the threading decision.
  std::int64_t work(std::int64_t batch) const { return batch * outputs * geo.positions() * geo.taps(); }
};

/// Returns the paths a call of `plan`'s shape takes for element type T (plan.cpp).
template <class T>
ConvPaths choose_paths(const ConvPlan& plan);

/// Returns a new plan for `shape`, not cached (tests force its paths to compare each with the reference).
ConvPlan make_conv_plan(const ConvShape& shape);

// Each path's entry points, in the files named in ConvLayout and ShiftedKernel.
template <class T>
void reference_forward(const ConvPlan& plan, const ConvForward<T>& a);
template <class T>
void reference_backward(const ConvPlan& plan, const ConvBackward<T>& a);
template <class T>
void patch_major_forward(const ConvPlan& plan, const ConvForward<T>& a);
template <class T>
void patch_major_backward(const ConvPlan& plan, const ConvBackward<T>& a);
template <class T>
void im2col_forward(const ConvPlan& plan, const ConvForward<T>& a);
template <class T>
void im2col_backward(const ConvPlan& plan, const ConvBackward<T>& a);
template <class T>
void grid_forward(const ConvPlan& plan, const ConvForward<T>& a);
template <class T>
void maps_vectorised_forward(const ConvPlan& plan, const ConvForward<T>& a);
template <class T>
void rows_vectorised_forward(const ConvPlan& plan, const ConvForward<T>& a);
template <class T>
void samples_vectorised_forward(const ConvPlan& plan, const ConvForward<T>& a);
/// Writes dL/dx (when `inputs`) and dL/dW with dL/dbias (when `weights`) over the samples, blocks of
/// kWideLanes<T> samples.
template <class T>
void samples_vectorised_backward(const ConvPlan& plan, const ConvBackward<T>& a, bool inputs, bool weights);
template <class T>
void shifted_backward(const ConvPlan& plan, const ConvBackward<T>& a);

/// Returns dL/dz for the samples [first, last) of a backward, [last - first][O,OH,OW]: dL/dy itself without
/// an activation, else dL/dy f'(z) computed from y into `into` (room for those values).
template <class T>
const T* output_gradient(const ConvPlan& plan, const ConvBackward<T>& a, std::int64_t first, std::int64_t last,
                         T* into) {
  const std::int64_t out_size = plan.out_size();
  const T* gy = a.g_out + first * out_size;
  if (a.activation == Activation::none) return gy;
  activation_gradient(a.activation, a.y + first * out_size, gy, into, (last - first) * out_size);
  return into;
}

/// Adds sum over positions of gy [m][O,P] to pb [O], sample by sample (each a lane-wise sum_lanes).
template <class T>
void add_bias_gradient(const ConvPlan& plan, std::int64_t m, const T* gy, T* pb) {
  const std::int64_t positions = plan.geo.positions(), out_size = plan.out_size();
  for (std::int64_t n = 0; n < m; ++n)
    for (std::int64_t o = 0; o < plan.outputs; ++o) pb[o] += sum_lanes(gy + n * out_size + o * positions, positions);
}

/// A backward's partial sums of dL/dW and dL/dbias per chunk, on the thread that makes the call.
struct ConvPartialSums {
  ScratchBuffer weights, bias;
};

/// Runs chunk(first, last, pw, pb) for each chunk of samples [first, last) of a backward's batch, spread over
/// the kernel threads, each chunk adding its samples' dL/dW and dL/dbias into partial sums of its own, pw
/// and pb (pw only when `chunked_weights`; a path that sums dL/dW over the whole batch at once writes a.gw
/// itself); then adds the partial sums into a.gw and a.gb in chunk order, so that the results do not depend
/// on the thread count.
template <class T, class Chunk>
void backward_by_chunks(const ConvPlan& plan, const ConvBackward<T>& a, bool chunked_weights, Chunk&& chunk) {
  const auto chunks = sample_chunks(a.batch);
  auto& sums = thread_scratch<ConvPartialSums>();
  const bool weights = a.gw && chunked_weights;
  ChunkPartials<T> part_w(chunks.count, a.gw, weights ? plan.outputs * plan.geo.taps() : 0, sums.weights);
  ChunkPartials<T> part_b(chunks.count, a.gb, a.gb ? plan.outputs : 0, sums.bias);
  parallel_for(chunks.count, [&](std::int64_t ch) {
    chunk(chunks.begin(ch), chunks.end(ch), part_w.chunk(ch), part_b.chunk(ch));
  }, 2 * plan.work(a.batch));
  part_w.reduce();
  part_b.reduce();
}

/// Copies x[C,H,W] into the interior of the zero-bordered padded maps (the borders and slack stay 0).
template <class T>
void pad_into(const ConvPlan& plan, const T* x, T* padded) {
  const ConvGeometry& g = plan.geo;
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t y = 0; y < g.height; ++y)
      copy_short(x + (c * g.height + y) * g.width, g.width,
                 padded + (c * g.padded_h() + y + g.padding()) * g.padded_w() + g.padding());
}

}  // namespace ag::kernels
