#include "autograd/detail/conv_plan.h"

#include "autograd/detail/maps_vectorised_kernels.h"

namespace ag::detail {

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

ConvPlan make_plan(const Tensor& x, const Tensor& weight, const Conv2dOptions& options) {
  ConvPlan plan;
  ConvGeometry& g = plan.geo;
  g.channels = x.size(1);
  g.height = x.size(2);
  g.width = x.size(3);
  g.kh = weight.size(2);
  g.kw = weight.size(3);
  g.stride = options.stride;
  g.padding = options.padding;
  g.out_h = (g.padded_h() - g.kh) / g.stride + 1;
  g.out_w = (g.padded_w() - g.kw) / g.stride + 1;
  plan.outputs = weight.size(0);
  const std::int64_t taps = g.taps(), taps_per_map = g.kh * g.kw;
  plan.grid = g.out_h * g.padded_w();
  if (!options.table && g.positions() < kPatchMajorBelow)
    plan.layout = ConvLayout::patch_major;
  else if (g.stride == 1 && plan.grid <= 2 * g.positions())
    plan.layout = ConvLayout::shifted;
  else
    plan.layout = ConvLayout::im2col;
  if (plan.layout == ConvLayout::shifted) {
    // The padded maps one after another, then slack for the whole vectors read past the last map's grid.
    plan.padded_size = g.channels * g.padded_h() * g.padded_w() + g.kw + 2 * kWideLanes<float>;
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t ki = 0; ki < g.kh; ++ki)
        for (std::int64_t kj = 0; kj < g.kw; ++kj)
          plan.tap_offsets.push_back((c * g.padded_h() + ki) * g.padded_w() + kj);
    // Multiply-adds per tap of a map: the grid computes every connected (output, input) map pair on all its
    // columns, direct_conv every pair (0 weights for the unconnected) of whole vectors of maps on the
    // positions only. LeNet-5's C3: 96 pairs x 144 columns against 16 x 6 x 100 without the table (direct),
    // 60 x 144 against 16 x 6 x 100 with it (grid).
    const std::int64_t pairs = options.table ? options.table->count() : plan.outputs * g.channels;
    const std::int64_t grid_work = pairs * round_up(plan.grid, kWideLanes<float>);
    const std::int64_t direct_work =
        round_up(plan.outputs, kWideLanes<float>) * g.channels * g.positions();
    // The row kernels (direct_row, direct_input_row), for the shapes they are instantiated for, load a
    // third as much per multiply-add as the grid's products: they win with C3's table too (forward 171 ->
    // 137 us, backward with direct_input_row 446 -> 310 us, at batch 64).
    const bool row_kernels = g.stride == 1 && with_row_kernel_shape(g.out_w, g.kw, [](auto, auto) {});
    plan.direct_forward = direct_work < grid_work || row_kernels;
    // dL/dW on the grid is short dot products whose sums are reduced lane by lane at the end; vectorised
    // over the maps it runs at about 1.5 times the rate (measured: C3 with its table, 216k multiply-adds a
    // sample on the grid, 240k vectorised, backward 567 -> 511 us at batch 64).
    plan.direct_weights = 2 * direct_work < 3 * grid_work;
    plan.direct_input = row_kernels;
    // Along the output rows, a row of OW outputs takes ceil(OW / L) vectors per map: with few maps (C1: 6
    // maps of 28 x 28, 2 x 16 lanes a row against 16 for 6 maps) it wastes fewer lanes than over the maps,
    // and it loads an input vector once for up to kh output rows, where the grid's products load it once
    // per tap.
    const bool instantiated = with_row_vectorised_shape<float>(g.out_w, g.kh, g.kw, [](auto, auto, auto) {});
    const std::int64_t row_work = pairs * round_up(g.out_w, kWideLanes<float>) * g.out_h;
    plan.along_rows = instantiated && !row_kernels && row_work < direct_work;
  }
  plan.stride = options.stride;
  plan.padding = options.padding;
  const auto count_accumulators = [&plan] {
    for (const auto& group : plan.output_groups) plan.dot_accumulators += DotSums<float>::accumulators(group);
  };
  if (!options.table) {
    plan.output_groups.push_back(all_rows(plan.outputs, taps));
    for (std::int64_t c = 0; c < g.channels; ++c) {
      RowGroup map_taps;
      for (std::int64_t r = 0; r < taps_per_map; ++r) map_taps.rows.push_back(r);
      map_taps.ks.push_back({0, plan.outputs});
      plan.tap_groups.push_back(std::move(map_taps.finish()));
    }
    count_accumulators();
    return plan;
  }
  plan.table = options.table->entries();
  // With a table, input map c contributes its taps [c kh kw, (c+1) kh kw) to the output maps that read it,
  // and its taps' gradients sum over those maps only.
  const ConnectionTable& table = *options.table;
  for (std::int64_t c = 0; c < g.channels; ++c) {
    RowGroup readers;
    std::vector<bool> read_by(static_cast<std::size_t>(plan.outputs));
    for (std::int64_t o = 0; o < plan.outputs; ++o) {
      read_by[static_cast<std::size_t>(o)] = table.connected(o, c);
      if (table.connected(o, c)) readers.rows.push_back(o);
    }
    readers.ks.push_back({c * taps_per_map, (c + 1) * taps_per_map});
    readers.block_rows = kPanelRowsMax;  // short sums: see kPanelRowsMax
    if (!readers.rows.empty()) plan.output_groups.push_back(std::move(readers.finish()));
    RowGroup map_taps;
    for (std::int64_t r = 0; r < taps_per_map; ++r) map_taps.rows.push_back(r);
    map_taps.ks = runs(read_by);
    map_taps.block_rows = kPanelRowsMax;
    plan.tap_groups.push_back(std::move(map_taps.finish()));
  }
  count_accumulators();
  return plan;
}

}  // namespace

std::shared_ptr<const ConvPlan> plan_for(const Tensor& x, const Tensor& weight, const Conv2dOptions& options) {
  constexpr std::size_t kCached = 16;
  thread_local std::vector<std::shared_ptr<const ConvPlan>> cache;
  for (const auto& plan : cache) {
    const ConvGeometry& g = plan->geo;
    if (g.channels == x.size(1) && g.height == x.size(2) && g.width == x.size(3) && plan->outputs == weight.size(0) &&
        g.kh == weight.size(2) && g.kw == weight.size(3) && plan->stride == options.stride &&
        plan->padding == options.padding &&
        (options.table ? options.table->entries() == plan->table : plan->table.empty()))
      return plan;
  }
  auto plan = std::make_shared<const ConvPlan>(make_plan(x, weight, options));
  if (cache.size() == kCached) cache.erase(cache.begin());
  cache.push_back(plan);
  return plan;
}

}  // namespace ag::detail
