#pragma once
/// Internal: how one conv2d call computes (its plan, cached by geometry), the helpers its forward and
/// backward share, and the two kernels' entry points (ops/conv2d_forward.cpp, ops/conv2d_backward.cpp).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "autograd/detail/batch_kernels.h"
#include "autograd/detail/conv_kernels.h"
#include "autograd/detail/row_vectorised_kernels.h"
#include "autograd/detail/transpose_kernels.h"
#include "autograd/ops/activation.h"
#include "autograd/ops/conv2d.h"

namespace ag::detail {

/// How one call computes. Three layouts (see conv_kernels.h for the first two):
///  - patch-major, for outputs of fewer than kPatchMajorBelow positions (C5's 1x1) without a table: each
///    output is a dot product of a weight row with a receptive field, both contiguous;
///  - shifted, for stride 1: each sample zero-padded into a buffer of width Wp, the output computed on a grid
///    of width Wp whose last Wp - OW columns are dropped. Tap (c,ki,kj)'s row of the unrolled input is then
///    the padded map itself shifted by ki Wp + kj: no im2col, and its adjoint is one add per tap;
///  - channel-major im2col otherwise, with a chunk's samples side by side along the positions.
enum class ConvLayout { patch_major, shifted, im2col };

constexpr std::int64_t kPatchMajorBelow = 16;

/// Everything the forward and backward kernels need to know about one call, shared by the backward rule.
/// Plans are cached by geometry (plan_for), so a training step builds none.
struct ConvPlan {
  ConvGeometry geo;
  std::int64_t outputs = 0;
  ConvLayout layout = ConvLayout::im2col;
  std::vector<RowGroup> output_groups;  // rows o of weight and output, each summing over some taps k
  std::vector<RowGroup> tap_groups;     // per input map c: its taps' rows c kh kw + r of the columns'
                                        // gradient as r < kh kw (relative to the map's first tap),
                                        // each summing over the maps o that read c
  std::int64_t dot_accumulators = 0;    // vectors of DotSums accumulators over all output_groups
  // The shifted layout: the output grid's positions, the padded maps' size and each tap's offset.
  std::int64_t grid = 0, padded_size = 0;
  std::vector<std::int64_t> tap_offsets;
  // The shifted layout's forward vectorised over the output maps instead (direct_conv): when the maps fill
  // most of a vector's lanes, it computes no dropped grid columns; and for the row kernels' shapes.
  bool direct_forward = false;
  // dL/dW likewise vectorised over the output maps (direct_weight_gradient) instead of dot products on the grid.
  bool direct_weights = false;
  // dL/dx likewise (direct_input_gradient) instead of W^T G on the grid gathered back to the input.
  bool direct_input = false;
  // The shifted layout's forward and dL/dW vectorised along the output rows instead (row_vectorised_conv,
  // add_row_vectorised_weight_gradient), for few output maps: no grid, no copies off it. For the element
  // types whose kernels fit the registers (rows_vectorised<T>): with AVX2, float but not double.
  bool along_rows = false;
  // What the plan was made for (the cache's key).
  std::int64_t stride = 1, padding = 0;
  std::vector<std::uint8_t> table;  // the connection table's entries, empty without one
  /// Returns true when this call's forward and dL/dW run along the output rows for element type T.
  template <class T>
  bool rows_vectorised() const {
    return along_rows && with_row_vectorised_shape<T>(geo.out_w, geo.kh, geo.kw, [](auto, auto, auto) {});
  }
  /// Returns true when output map o reads input map c (always, without a table).
  bool reads(std::int64_t o, std::int64_t c) const {
    return table.empty() || table[static_cast<std::size_t>(o * geo.channels + c)] != 0;
  }
};

/// Returns the plan for this call: from a per-thread cache of recent plans when one matches (comparing the
/// geometry and the table's entries allocates nothing), else a new one, which replaces the oldest.
std::shared_ptr<const ConvPlan> plan_for(const Tensor& x, const Tensor& weight, const Conv2dOptions& options);

/// Zeroes columns [P, ld) of each of the m samples' segments in each of `rows` rows of m ld values.
template <class T>
void zero_padding(T* buffer, std::int64_t rows, std::int64_t m, std::int64_t positions, std::int64_t ld) {
  if (ld == positions) return;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t n = 0; n < m; ++n) std::fill_n(buffer + (r * m + n) * ld + positions, ld - positions, T(0));
}

/// Copies x[C,H,W] into the interior of the zero-bordered padded maps (the borders and slack stay 0).
template <class T>
void pad_into(const ConvPlan& plan, const T* x, T* padded) {
  const ConvGeometry& g = plan.geo;
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t y = 0; y < g.height; ++y)
      copy_short(x + (c * g.height + y) * g.width, g.width,
                 padded + (c * g.padded_h() + y + g.padding) * g.padded_w() + g.padding);
}

/// W [O,K] as wt [O/L][K][L] for direct_conv and direct_input_gradient (L = kWideLanes<T>; 0 for the maps
/// past O and for the taps a map does not read through the table), and, when wbias is not null, the biases
/// as wbias [O rounded up to L] (0 past O or without).
template <class T>
void pack_for_maps_vectorised(const ConvPlan& plan, const T* w, const T* bias, T* wt, T* wbias) {
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

/// y [N,O,OH,OW] = activation(conv(x [N,C,H,W], w [O,C,kh,kw]) + bias [O] or none), as planned.
template <class T>
void conv_forward(const ConvPlan& plan, std::int64_t batch, const T* x, const T* w, const T* bias,
                  Activation activation, T* y);

/// dL/dx [N,C,H,W], dL/dW [O,C,kh,kw] and dL/dbias [O] (each skipped when null) from dL/dy g_out [N,O,OH,OW]
/// and, with an activation, its output y.
template <class T>
void conv_backward(const ConvPlan& plan, std::int64_t batch, const T* x, const T* w, const T* g_out, const T* y,
                   Activation activation, T* gx, T* gw, T* gb);

}  // namespace ag::detail
