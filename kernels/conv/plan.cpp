#include "kernels/conv/plan.h"

#include "kernels/conv/specialised_shapes.h"
#include "kernels/dots.h"
#include "kernels/reference.h"

namespace ag::kernels {

template <class T>
ConvPaths choose_paths(const ConvPlan& plan) {
  const ConvGeometry& g = plan.geo;
  if (kReferenceKernels || !g.uniform()) return {};  // per-axis strides or paddings, dilation: the reference
  if (plan.table.empty() && g.positions() < kPatchMajorBelow) return {ConvLayout::patch_major};
  if (g.stride() != 1 || plan.grid > 2 * g.positions()) return {ConvLayout::im2col};
  // The shifted layout. Multiply-adds per tap of a map: the grid computes every connected (output, input)
  // map pair on all its columns; over the maps, every pair (0 weights for the unconnected) of whole vectors
  // of maps on the positions only; along the rows, every connected pair on whole vectors of each row.
  constexpr std::int64_t L = kWideLanes<float>;
  const std::int64_t pairs = plan.table.empty() ? plan.outputs * g.channels
                                                : std::count(plan.table.begin(), plan.table.end(), 1);
  const std::int64_t grid_work = pairs * round_up(plan.grid, L);
  const std::int64_t maps_work = round_up(plan.outputs, L) * g.channels * g.positions();
  const std::int64_t rows_work = pairs * round_up(g.out_w, L) * g.out_h;
  // The row kernels of the maps-vectorised path, for the shapes they are specialised for, load a third as
  // much per multiply-add as the grid's products: they win even where the grid has fewer (C3 with Table I).
  const bool row_kernels = with_row_kernel_shape(g.out_w, g.kw, [](auto, auto) {});
  const auto no_op = [](auto, auto, auto) {};
  const bool along_rows = with_row_vectorised_shape<float>(g.out_w, g.kh, g.kw, no_op) && !row_kernels &&
                          rows_work < maps_work && with_row_vectorised_shape<T>(g.out_w, g.kh, g.kw, no_op);
  ConvPaths paths{ConvLayout::shifted};
  // dL/dW on the grid is short dot products whose lanes are summed at the end; over the maps it runs at
  // about 1.5 times their rate, hence the 2 : 3.
  const ShiftedKernel by_maps_or_grid_w = 2 * maps_work < 3 * grid_work ? ShiftedKernel::over_maps : ShiftedKernel::grid;
  const ShiftedKernel by_maps_or_grid_f =
      maps_work < grid_work || row_kernels ? ShiftedKernel::over_maps : ShiftedKernel::grid;
  paths.forward = along_rows ? ShiftedKernel::along_rows : by_maps_or_grid_f;
  paths.weights = along_rows ? ShiftedKernel::along_rows : by_maps_or_grid_w;
  paths.inputs = row_kernels ? ShiftedKernel::over_maps : ShiftedKernel::grid;
  // Over the samples, each map reads its connected input maps only: fewer multiply-adds than over the maps
  // wherever a table leaves pairs out (the row kernels' shapes, unpadded inputs).
  if (row_kernels && g.padding() == 0 && pairs * g.positions() < maps_work)
    paths.forward = paths.weights = paths.inputs = ShiftedKernel::over_samples;
  return paths;
}

template ConvPaths choose_paths<float>(const ConvPlan&);
template ConvPaths choose_paths<double>(const ConvPlan&);

namespace {

/// Returns the runs of consecutive true flags as ranges of indices.
std::vector<Range> runs(const std::vector<bool>& on) {
  std::vector<Range> out;
  for (std::size_t i = 0; i < on.size(); ++i) {
    if (!on[i]) continue;
    const auto b = static_cast<std::int64_t>(i);
    if (!out.empty() && out.back().end == b)
      out.back().end = b + 1;
    else
      out.push_back({b, b + 1});
  }
  return out;
}

/// Returns the group of the kh kw tap rows of one input map, summing over the output maps in `sums`.
RowGroup map_taps(std::int64_t taps_per_map, std::vector<Range> sums, int block_rows) {
  RowGroup group;
  for (std::int64_t r = 0; r < taps_per_map; ++r) group.rows.push_back(r);
  group.ks = std::move(sums);
  group.block_rows = block_rows;
  return std::move(group.finish());
}

/// Fills the plan's row groups: without a table, all outputs over all taps; with one, per input map c the
/// output maps that read it, summing over c's taps, and c's taps summing over those maps only.
void add_row_groups(ConvPlan& plan) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps_per_map = g.kh * g.kw;
  if (plan.table.empty()) {
    plan.output_groups.push_back(all_rows(plan.outputs, g.taps()));
    for (std::int64_t c = 0; c < g.channels; ++c)
      plan.tap_groups.push_back(map_taps(taps_per_map, {{0, plan.outputs}}, kPanelRows));
  } else {
    for (std::int64_t c = 0; c < g.channels; ++c) {
      RowGroup readers;
      std::vector<bool> read_by(static_cast<std::size_t>(plan.outputs));
      for (std::int64_t o = 0; o < plan.outputs; ++o) {
        read_by[static_cast<std::size_t>(o)] = plan.reads(o, c);
        if (plan.reads(o, c)) readers.rows.push_back(o);
      }
      readers.ks.push_back({c * taps_per_map, (c + 1) * taps_per_map});
      readers.block_rows = kPanelRowsMax;  // short sums: see kPanelRowsMax
      if (!readers.rows.empty()) plan.output_groups.push_back(std::move(readers.finish()));
      plan.tap_groups.push_back(map_taps(taps_per_map, runs(read_by), kPanelRowsMax));
    }
  }
  plan.dot_accumulators = GroupedDotSums<float>::accumulators(plan.output_groups);
}

ConvPlan make_plan(const ConvShape& shape) {
  ConvPlan plan;
  ConvGeometry& g = plan.geo;
  g = {shape.channels, shape.height, shape.width, shape.kh, shape.kw, shape.stride_h, shape.stride_w,
       shape.pad_h, shape.pad_w, shape.dilation_h, shape.dilation_w, 0, 0};
  g.out_h = (g.padded_h() - g.dilation_h * (g.kh - 1) - 1) / g.stride_h + 1;
  g.out_w = (g.padded_w() - g.dilation_w * (g.kw - 1) - 1) / g.stride_w + 1;
  plan.outputs = shape.outputs;
  plan.table.assign(shape.table.begin(), shape.table.end());
  plan.inputs_of.resize(static_cast<std::size_t>(plan.outputs));
  plan.readers_of.resize(static_cast<std::size_t>(g.channels));
  for (std::int64_t o = 0; o < plan.outputs; ++o)
    for (std::int64_t c = 0; c < g.channels; ++c)
      if (plan.reads(o, c)) {
        plan.inputs_of[static_cast<std::size_t>(o)].push_back(c);
        plan.readers_of[static_cast<std::size_t>(c)].push_back(o);
      }
  plan.grid = g.out_h * g.padded_w();
  if (g.uniform() && g.stride() == 1) {
    // The shifted layout's padded maps one after another, then slack for the whole vectors read past the
    // last map's grid; and each tap's shift in them.
    plan.padded_size = g.channels * g.padded_h() * g.padded_w() + g.kw + 2 * kWideLanes<float>;
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t ki = 0; ki < g.kh; ++ki)
        for (std::int64_t kj = 0; kj < g.kw; ++kj)
          plan.tap_offsets.push_back((c * g.padded_h() + ki) * g.padded_w() + kj);
  }
  add_row_groups(plan);
  plan.float_paths = choose_paths<float>(plan);
  plan.double_paths = choose_paths<double>(plan);
  return plan;
}

/// Returns true when `plan` was made for `shape`.
bool made_for(const ConvPlan& plan, const ConvShape& shape) {
  const ConvGeometry& g = plan.geo;
  return g.channels == shape.channels && g.height == shape.height && g.width == shape.width &&
         plan.outputs == shape.outputs && g.kh == shape.kh && g.kw == shape.kw && g.stride_h == shape.stride_h &&
         g.stride_w == shape.stride_w && g.pad_h == shape.pad_h && g.pad_w == shape.pad_w &&
         g.dilation_h == shape.dilation_h && g.dilation_w == shape.dilation_w &&
         std::ranges::equal(plan.table, shape.table);
}

}  // namespace

ConvPlan make_conv_plan(const ConvShape& shape) { return make_plan(shape); }

std::shared_ptr<const ConvPlan> conv_plan(const ConvShape& shape) {
  constexpr std::size_t kCached = 16;
  thread_local std::vector<std::shared_ptr<const ConvPlan>> cache;
  for (const auto& plan : cache)
    if (made_for(*plan, shape)) return plan;
  auto plan = std::make_shared<const ConvPlan>(make_plan(shape));
  if (cache.size() == kCached) cache.erase(cache.begin());
  cache.push_back(plan);
  return plan;
}

}  // namespace ag::kernels
