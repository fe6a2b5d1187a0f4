#include "autograd/ops/conv2d.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "autograd/detail/activation_rules.h"
#include "autograd/detail/batch_kernels.h"
#include "autograd/detail/conv_kernels.h"
#include "autograd/detail/maps_vectorised_kernels.h"
#include "autograd/detail/product_kernels.h"
#include "autograd/detail/transpose_kernels.h"
#include "autograd/graph.h"

namespace ag {

ConnectionTable::ConnectionTable(std::int64_t outputs, std::int64_t inputs, std::vector<std::uint8_t> entries)
    : outputs_(outputs), inputs_(inputs), entries_(std::move(entries)) {
  if (outputs < 1 || inputs < 1) fail("ConnectionTable", "sizes must be at least 1, got {}x{}", outputs, inputs);
  if (static_cast<std::int64_t>(entries_.size()) != outputs * inputs)
    fail("ConnectionTable", "{} entries for a {}x{} table, which needs {}", entries_.size(), outputs, inputs,
         outputs * inputs);
  for (std::int64_t o = 0; o < outputs; ++o)
    for (std::int64_t c = 0; c < inputs; ++c)
      if (const auto e = entries_[static_cast<std::size_t>(o * inputs + c)]; e > 1)
        fail("ConnectionTable", "entry [{},{}] of the {}x{} table is {}; entries must be 0 or 1", o, c, outputs, inputs,
             e);
  for (std::int64_t o = 0; o < outputs; ++o) {
    bool any = false;
    for (std::int64_t c = 0; c < inputs; ++c) any = any || connected(o, c);
    if (!any) fail("ConnectionTable", "output map {} reads no input map in the {}x{} table", o, outputs, inputs);
  }
}

ConnectionTable ConnectionTable::lenet5_c3() {
  // Table I of the paper: the S2 maps that each C3 map reads.
  static const std::vector<std::vector<int>> reads = {
      {0, 1, 2},         {1, 2, 3},    {2, 3, 4},    {3, 4, 5},    {4, 5, 0},    {5, 0, 1},     // 3 inputs
      {0, 1, 2, 3},      {1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 0}, {4, 5, 0, 1}, {5, 0, 1, 2},  // 4 contiguous
      {0, 1, 3, 4},      {1, 2, 4, 5}, {0, 2, 3, 5},                                            // 4 split
      {0, 1, 2, 3, 4, 5}};                                                                      // all 6
  std::vector<std::uint8_t> entries(16 * 6, 0);
  for (std::size_t o = 0; o < reads.size(); ++o)
    for (int c : reads[o]) entries[o * 6 + static_cast<std::size_t>(c)] = 1;
  return ConnectionTable(16, 6, std::move(entries));
}

std::int64_t ConnectionTable::count() const { return std::count(entries_.begin(), entries_.end(), std::uint8_t{1}); }

std::string ConnectionTable::size_str() const { return fmt::format("{}x{}", outputs_, inputs_); }

namespace {

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
  detail::ConvGeometry geo;
  std::int64_t outputs = 0;
  ConvLayout layout = ConvLayout::im2col;
  std::vector<detail::RowGroup> output_groups;  // rows o of weight and output, each summing over some taps k
  std::vector<detail::RowGroup> tap_groups;     // per input map c: its taps' rows c kh kw + r of the columns'
                                                // gradient as r < kh kw (relative to the map's first tap),
                                                // each summing over the maps o that read c
  std::int64_t dot_accumulators = 0;            // vectors of DotSums accumulators over all output_groups
  // The shifted layout: the padded map's size, the output grid's positions and each tap's offset.
  std::int64_t padded_h = 0, padded_w = 0, grid = 0, padded_size = 0;
  std::vector<std::int64_t> tap_offsets;
  // The shifted layout's forward vectorised over the output maps instead (direct_conv): when the maps fill
  // most of a vector's lanes, it computes no dropped grid columns.
  bool direct_forward = false;
  // dL/dW likewise vectorised over the output maps (direct_weight_gradient) instead of dot products on the grid.
  bool direct_weights = false;
  // dL/dx likewise (direct_input_gradient) instead of W^T G on the grid gathered back to the input.
  bool direct_input = false;
  // What the plan was made for (the cache's key).
  std::int64_t stride = 1, padding = 0;
  std::vector<std::uint8_t> table;  // the connection table's entries, empty without one
  /// Returns true when output map o reads input map c (always, without a table).
  bool reads(std::int64_t o, std::int64_t c) const {
    return table.empty() || table[static_cast<std::size_t>(o * geo.channels + c)] != 0;
  }
};

/// Returns the runs of consecutive true flags as ranges of indices.
std::vector<detail::Range> runs(const std::vector<bool>& on) {
  std::vector<detail::Range> out;
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

/// Zeroes columns [P, ld) of each of the m samples' segments in each of `rows` rows of m ld values.
template <class T>
void zero_padding(T* buffer, std::int64_t rows, std::int64_t m, std::int64_t positions, std::int64_t ld) {
  if (ld == positions) return;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t n = 0; n < m; ++n) std::fill_n(buffer + (r * m + n) * ld + positions, ld - positions, T(0));
}

std::string shapes(const Tensor& x, const Tensor& weight) {
  return fmt::format("input {}, weight {}", shape_str(x.shape()), shape_str(weight.shape()));
}

void check_arguments(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  if (!x.defined() || !weight.defined()) fail("conv2d", "the input and the weight must be defined tensors");
  if (x.dim() != 4 || weight.dim() != 4)
    fail("conv2d", "expects input [N,C,H,W] and weight [O,C,kh,kw], got {}", shapes(x, weight));
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    fail("conv2d", "dtypes differ: input {} {}, weight {} {}{}", shape_str(x.shape()), dtype_name(x.dtype()),
         shape_str(weight.shape()), dtype_name(weight.dtype()),
         bias.defined() ? fmt::format(", bias {} {}", shape_str(bias.shape()), dtype_name(bias.dtype())) : "");
  if (x.dtype() == DType::i64) fail("conv2d", "expects float32 or float64 tensors, got int64: {}", shapes(x, weight));
  const Shape& w = weight.shape();
  if (std::find(w.begin(), w.end(), 0) != w.end()) fail("conv2d", "weight {} has an empty dimension", shape_str(w));
  if (x.size(1) != w[1])
    fail("conv2d", "input has {} channels but weight expects {}: {}", x.size(1), w[1], shapes(x, weight));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != w[0]))
    fail("conv2d", "bias {} does not match weight {}: expects [{}]", shape_str(bias.shape()), shape_str(w), w[0]);
  if (options.stride < 1) fail("conv2d", "stride must be at least 1, got {}: {}", options.stride, shapes(x, weight));
  if (options.padding < 0) fail("conv2d", "padding must be at least 0, got {}: {}", options.padding, shapes(x, weight));
  const std::int64_t ph = x.size(2) + 2 * options.padding, pw = x.size(3) + 2 * options.padding;
  if (w[2] > ph || w[3] > pw)
    fail("conv2d", "kernel {}x{} is larger than the padded input {}x{} (padding {}): {}", w[2], w[3], ph, pw,
         options.padding, shapes(x, weight));
  if (options.table && (options.table->outputs() != w[0] || options.table->inputs() != w[1]))
    fail("conv2d", "connection table is {} but weight {} needs {}x{}", options.table->size_str(), shape_str(w), w[0],
         w[1]);
}

ConvPlan make_plan(const Tensor& x, const Tensor& weight, const Conv2dOptions& options) {
  ConvPlan plan;
  detail::ConvGeometry& g = plan.geo;
  g.channels = x.size(1);
  g.height = x.size(2);
  g.width = x.size(3);
  g.kh = weight.size(2);
  g.kw = weight.size(3);
  g.stride = options.stride;
  g.padding = options.padding;
  g.out_h = (g.height + 2 * g.padding - g.kh) / g.stride + 1;
  g.out_w = (g.width + 2 * g.padding - g.kw) / g.stride + 1;
  plan.outputs = weight.size(0);
  const std::int64_t taps = g.taps(), taps_per_map = g.kh * g.kw;
  plan.padded_h = g.height + 2 * g.padding;
  plan.padded_w = g.width + 2 * g.padding;
  plan.grid = g.out_h * plan.padded_w;
  if (!options.table && g.positions() < kPatchMajorBelow)
    plan.layout = ConvLayout::patch_major;
  else if (g.stride == 1 && plan.grid <= 2 * g.positions())
    plan.layout = ConvLayout::shifted;
  else
    plan.layout = ConvLayout::im2col;
  if (plan.layout == ConvLayout::shifted) {
    // The padded maps one after another, then slack for the whole vectors read past the last map's grid.
    plan.padded_size = g.channels * plan.padded_h * plan.padded_w + g.kw + 2 * detail::kWideLanes<float>;
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t ki = 0; ki < g.kh; ++ki)
        for (std::int64_t kj = 0; kj < g.kw; ++kj)
          plan.tap_offsets.push_back((c * plan.padded_h + ki) * plan.padded_w + kj);
    // Multiply-adds per tap of a map: the grid computes every connected (output, input) map pair on all its
    // columns, direct_conv every pair (0 weights for the unconnected) of whole vectors of maps on the
    // positions only. LeNet-5's C3: 96 pairs x 144 columns against 16 x 6 x 100 without the table (direct),
    // 60 x 144 against 16 x 6 x 100 with it (grid).
    const std::int64_t pairs = options.table ? options.table->count() : plan.outputs * g.channels;
    const std::int64_t grid_work = pairs * detail::round_up(plan.grid, detail::kWideLanes<float>);
    const std::int64_t direct_work =
        detail::round_up(plan.outputs, detail::kWideLanes<float>) * g.channels * g.positions();
    // The row kernels (direct_row, direct_input_row), for the shapes they are instantiated for, load a
    // third as much per multiply-add as the grid's products: they win with C3's table too (forward 171 ->
    // 137 us, backward with direct_input_row 446 -> 310 us, at batch 64).
    const bool row_kernels = g.stride == 1 && detail::with_row_kernel_shape(g.out_w, g.kw, [](auto, auto) {});
    plan.direct_forward = direct_work < grid_work || row_kernels;
    // dL/dW on the grid is short dot products whose sums are reduced lane by lane at the end; vectorised
    // over the maps it runs at about 1.5 times the rate (measured: C3 with its table, 216k multiply-adds a
    // sample on the grid, 240k vectorised, backward 567 -> 511 us at batch 64).
    plan.direct_weights = 2 * direct_work < 3 * grid_work;
    plan.direct_input = row_kernels;
  }
  plan.stride = options.stride;
  plan.padding = options.padding;
  const auto count_accumulators = [&plan] {
    for (const auto& group : plan.output_groups) plan.dot_accumulators += detail::DotSums<float>::accumulators(group);
  };
  if (!options.table) {
    plan.output_groups.push_back(detail::all_rows(plan.outputs, taps));
    for (std::int64_t c = 0; c < g.channels; ++c) {
      detail::RowGroup map_taps;
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
    detail::RowGroup readers;
    std::vector<bool> read_by(static_cast<std::size_t>(plan.outputs));
    for (std::int64_t o = 0; o < plan.outputs; ++o) {
      read_by[static_cast<std::size_t>(o)] = table.connected(o, c);
      if (table.connected(o, c)) readers.rows.push_back(o);
    }
    readers.ks.push_back({c * taps_per_map, (c + 1) * taps_per_map});
    readers.block_rows = detail::kPanelRowsMax;  // short sums: see kPanelRowsMax
    if (!readers.rows.empty()) plan.output_groups.push_back(std::move(readers.finish()));
    detail::RowGroup map_taps;
    for (std::int64_t r = 0; r < taps_per_map; ++r) map_taps.rows.push_back(r);
    map_taps.ks = runs(read_by);
    map_taps.block_rows = detail::kPanelRowsMax;
    plan.tap_groups.push_back(std::move(map_taps.finish()));
  }
  count_accumulators();
  return plan;
}

/// Returns the plan for this call: from a per-thread cache of recent plans when one matches (comparing the
/// geometry and the table's entries allocates nothing), else a new one, which replaces the oldest.
std::shared_ptr<const ConvPlan> plan_for(const Tensor& x, const Tensor& weight, const Conv2dOptions& options) {
  constexpr std::size_t kCached = 16;
  thread_local std::vector<std::shared_ptr<const ConvPlan>> cache;
  for (const auto& plan : cache) {
    const detail::ConvGeometry& g = plan->geo;
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

/// Copies x[C,H,W] into the interior of the zero-bordered padded maps (the borders and slack stay 0).
template <class T>
void pad_into(const ConvPlan& plan, const T* x, T* padded) {
  const detail::ConvGeometry& g = plan.geo;
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t y = 0; y < g.height; ++y)
      detail::copy_short(x + (c * g.height + y) * g.width, g.width,
                         padded + (c * plan.padded_h + y + g.padding) * plan.padded_w + g.padding);
}

/// W [O,K] as wt [O/L][K][L] for direct_conv and direct_input_gradient (L = kWideLanes<T>; 0 for the maps
/// past O and for the taps a map does not read through the table), and, when wbias is not null, the biases
/// as wbias [O rounded up to L] (0 past O or without).
template <class T>
void pack_for_maps_vectorised(const ConvPlan& plan, const T* w, const T* bias, T* wt, T* wbias) {
  constexpr std::int64_t L = detail::kWideLanes<T>;
  const std::int64_t outputs = plan.outputs, taps = plan.geo.taps(), taps_per_map = plan.geo.kh * plan.geo.kw;
  for (std::int64_t o0 = 0; o0 < outputs; o0 += L)  // L x L register transposes; lanes past O are 0
    detail::transpose_rows_into_block(w + o0 * taps, taps, std::min(L, outputs - o0), wt + o0 * taps);
  for (std::int64_t o = 0; o < outputs; ++o)
    for (std::int64_t c = 0; c < plan.geo.channels; ++c)
      if (!plan.reads(o, c))
        for (std::int64_t k = c * taps_per_map; k < (c + 1) * taps_per_map; ++k) wt[(o / L * taps + k) * L + o % L] = 0;
  if (wbias)
    for (std::int64_t o = 0; o < detail::round_up(outputs, L); ++o) wbias[o] = o < outputs && bias ? bias[o] : T(0);
}

/// The chunk's m output gradients gy (one after another) transposed for the maps-vectorised kernels: gt
/// [O/L][m][P][L] (L = kWideLanes<T>), each L maps' G [P, L] per sample, lanes past O 0.
template <class T>
void transpose_output_gradient(const ConvPlan& plan, std::int64_t m, const T* gy, T* gt) {
  constexpr std::int64_t L = detail::kWideLanes<T>;
  const std::int64_t positions = plan.geo.positions(), outputs = plan.outputs, out_size = outputs * positions;
  for (std::int64_t o0 = 0; o0 < outputs; o0 += L)
    for (std::int64_t n = 0; n < m; ++n)
      detail::transpose_rows_into_block(gy + n * out_size + o0 * positions, positions, std::min(L, outputs - o0),
                                        gt + (o0 / L * m + n) * positions * L);
}

/// Adds one chunk's dL/dW [O,K] to pw and, when pb is not null, its dL/dbias [O] to pb, vectorised over the
/// output maps (direct_weight_gradient): for each L maps, every tap's sums over the chunk's m samples, from
/// their transposed G (gt, transpose_output_gradient) and padded inputs (m of plan.padded_size).
/// Unconnected (map, tap) pairs keep their 0.
template <class T>
void add_weight_gradient_maps_vectorised(const ConvPlan& plan, std::int64_t m, const T* gt_all, const T* padded, T* pw,
                                         T* pb) {
  using detail::Slot;
  constexpr std::int64_t L = detail::kWideLanes<T>;
  const detail::ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), taps_per_map = g.kh * g.kw, positions = g.positions();
  const std::int64_t outputs = plan.outputs;
  auto* acc = detail::thread_scratch<detail::Wide<T>>(Slot::s5, taps);
  T lanes[L];
  for (std::int64_t o0 = 0; o0 < outputs; o0 += L) {
    const std::int64_t maps = std::min(L, outputs - o0);
    const T* gt = gt_all + o0 / L * m * positions * L;
    std::fill_n(acc, taps, detail::Wide<T>{});
    detail::direct_weight_gradient(g, plan.padded_w, m, padded, plan.padded_size, plan.tap_offsets.data(), gt,
                                   positions * L, acc);
    // acc [K][L] to rows [maps][K] (register transposes), added to the connected (map, tap) pairs.
    T* rows = detail::thread_scratch<T>(Slot::s2, maps * taps);
    detail::transpose_block_into(reinterpret_cast<const T*>(acc), taps, maps, rows);
    for (std::int64_t l = 0; l < maps; ++l)
      for (std::int64_t c = 0; c < g.channels; ++c)
        if (plan.reads(o0 + l, c))
          for (std::int64_t k = c * taps_per_map; k < (c + 1) * taps_per_map; ++k)
            pw[(o0 + l) * taps + k] += rows[l * taps + k];
    if (!pb) continue;
    // dL/dbias from the same transposed G: four interleaved partial sums (a fixed order), so that the adds
    // do not wait on one another.
    detail::Wide<T> sums[4] = {};
    const std::int64_t count = m * positions;
    std::int64_t q = 0;
    for (; q + 4 <= count; q += 4)
      for (int u = 0; u < 4; ++u) sums[u] += detail::load_wide(gt + (q + u) * L);
    for (; q < count; ++q) sums[0] += detail::load_wide(gt + q * L);
    const detail::Wide<T> bias_sum = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    std::memcpy(lanes, &bias_sum, sizeof lanes);
    for (std::int64_t l = 0; l < maps; ++l) pb[o0 + l] += lanes[l];
  }
}

// Forward, per sample n (chunks of samples are independent, and spread over the threads), y[n] [O,P] =
// bias + W [O,K] col(x[n]) [K,P] over the connected taps only, where col(x)[k] is the unrolled input's row
// for tap k:
//   shifted:      col[k] = the padded maps from offset k (on the Wp-wide grid; extra columns dropped), or
//                 when plan.direct_forward, the same sums vectorised over the output maps (direct_conv: for
//                 C3's shape a whole output row at a time, direct_row)
//   im2col:       col = im2col(x[n]), the chunk's samples side by side (each padded to ld columns)
//   patch-major:  y[n,o,p] = bias[o] + the dot product of W's row o with the receptive field (n,p), or from
//                 kRowsForTransposedWeights receptive fields up, their rows times W^T (rows_times_transposed)
//   and then y[n] = f(y[n]) for the activation f, while sample n (or the chunk) is still in the cache.
template <class T>
void conv_forward(const ConvPlan& plan, std::int64_t batch, const T* x, const T* w, const T* bias, Activation activation,
                  T* y) {
  using detail::Slot;
  const detail::ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs, ow = g.out_w;
  const std::int64_t in_size = g.channels * g.height * g.width, out_size = outputs * positions;
  const auto chunks = detail::sample_chunks(batch);
  const auto fill_bias = [&](T* acc, std::int64_t cols) {
    for (std::int64_t o = 0; o < outputs; ++o) std::fill(acc + o * cols, acc + (o + 1) * cols, bias ? bias[o] : T(0));
  };
  if (plan.layout == ConvLayout::shifted && plan.direct_forward) {
    // The weights and biases in direct_conv's layout, once per call, on this thread, read by all.
    const std::int64_t padded_outputs = detail::round_up(outputs, detail::kWideLanes<T>);
    T* wt = detail::thread_scratch<T>(Slot::partials_a, padded_outputs * taps);
    T* wbias = detail::thread_scratch<T>(Slot::partials_b, padded_outputs);
    pack_for_maps_vectorised(plan, w, bias, wt, wbias);
    detail::parallel_for(chunks.count, [&](std::int64_t ch) {
      T* padded = detail::thread_scratch<T>(Slot::s0, plan.padded_size);
      T* block = detail::thread_scratch<T>(Slot::s1, positions * detail::kWideLanes<T>);
      std::fill_n(padded, plan.padded_size, T(0));  // the borders and slack stay 0; pad_into writes the interior
      for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
        pad_into(plan, x + n * in_size, padded);
        detail::direct_conv(g, plan.padded_w, plan.tap_offsets.data(), padded, wt, wbias, outputs, block,
                            y + n * out_size);
        detail::activate_in_place(activation, y + n * out_size, out_size);
      }
    }, batch * outputs * positions * taps);
    return;
  }
  if (plan.layout == ConvLayout::shifted) {
    const std::int64_t cols = detail::round_up(plan.grid, detail::kWideLanes<T>), wp = plan.padded_w;
    detail::parallel_for(chunks.count, [&](std::int64_t ch) {
      T* padded = detail::thread_scratch<T>(Slot::s0, plan.padded_size);
      T* acc = detail::thread_scratch<T>(Slot::s1, outputs * cols);
      std::fill_n(padded, plan.padded_size, T(0));  // the borders and slack stay 0; pad_into writes the interior
      const detail::RowsOf<T> rows{padded, 0, plan.tap_offsets.data()};
      for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
        pad_into(plan, x + n * in_size, padded);
        fill_bias(acc, cols);
        for (const auto& group : plan.output_groups)
          detail::panel_product(group, cols, w, taps, 1, rows, acc, cols, true);
        for (std::int64_t o = 0; o < outputs; ++o)
          for (std::int64_t i = 0; i < g.out_h; ++i)
            detail::copy_short(acc + o * cols + i * wp, ow, y + n * out_size + o * positions + i * ow);
        detail::activate_in_place(activation, y + n * out_size, out_size);
      }
    }, batch * outputs * positions * taps);
    return;
  }
  if (plan.layout == ConvLayout::im2col) {
    const std::int64_t ld = detail::round_up(positions, detail::kWideLanes<T>);  // a sample's columns, padded
    detail::parallel_for(chunks.count, [&](std::int64_t ch) {
      const std::int64_t first = chunks.begin(ch), m = chunks.end(ch) - first, cols = m * ld;
      T* col = detail::thread_scratch<T>(Slot::s0, taps * cols);
      T* acc = detail::thread_scratch<T>(Slot::s1, outputs * cols);
      zero_padding(col, taps, m, positions, ld);
      for (std::int64_t n = first; n < first + m; ++n) detail::im2col(g, x + n * in_size, col + (n - first) * ld, cols);
      fill_bias(acc, cols);
      for (const auto& group : plan.output_groups)
        detail::panel_product(group, cols, w, taps, 1, detail::RowsOf<T>{col, cols}, acc, cols, true);
      for (std::int64_t n = first; n < first + m; ++n)
        for (std::int64_t o = 0; o < outputs; ++o)
          detail::copy_short(acc + o * cols + (n - first) * ld, positions, y + n * out_size + o * positions);
      detail::activate_in_place(activation, y + first * out_size, m * out_size);
    }, batch * outputs * positions * taps);
    return;
  }
  if (batch * positions >= detail::kRowsForTransposedWeights) {
    // Many receptive fields: y's rows (n,p) = col [rows, K] W^T [K, O], vectorised over the O maps (padded
    // to whole vectors with 0 weights), with W^T made once per call on this thread (a transposition of
    // O K values, which batch-1 calls could not repay: they take the dot products below).
    constexpr std::int64_t L = detail::kWideLanes<T>;
    const std::int64_t ldo = detail::round_up(outputs, L);
    T* wt = detail::thread_scratch<T>(Slot::partials_a, taps * ldo);
    detail::transpose_weights(w, outputs, taps, ldo, wt);
    detail::parallel_for(chunks.count, [&](std::int64_t ch) {
      const std::int64_t first = chunks.begin(ch), rows = (chunks.end(ch) - first) * positions;
      T* col = detail::thread_scratch<T>(Slot::s0, rows * taps);  // row (n,p): the receptive field of position p
      T* acc = detail::thread_scratch<T>(Slot::s1, rows * ldo);   // row (n,p): its ldo maps
      for (std::int64_t n = first; n < chunks.end(ch); ++n)
        detail::im2col_patches(g, x + n * in_size, col + (n - first) * positions * taps, taps);
      detail::rows_times_transposed(rows, taps, col, taps, wt, outputs, ldo, bias, acc);
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t n = first + r / positions, p = r % positions;
        for (std::int64_t o = 0; o < outputs; ++o) y[n * out_size + o * positions + p] = acc[r * ldo + o];
      }
      detail::activate_in_place(activation, y + first * out_size, (chunks.end(ch) - first) * out_size);
    }, batch * outputs * positions * taps);
    return;
  }
  // Patch-major: whole vectors along each receptive field, so W's rows are padded with zeros to ld when K is
  // not a multiple of the vector length (a copy made once per call, on this thread).
  const std::int64_t ld = detail::round_up(taps, detail::kWideLanes<T>);
  const T* wrows = w;
  if (ld != taps) {
    T* padded = detail::thread_scratch<T>(Slot::partials_a, outputs * ld);
    for (std::int64_t o = 0; o < outputs; ++o) {
      std::copy_n(w + o * taps, taps, padded + o * ld);
      std::fill(padded + o * ld + taps, padded + (o + 1) * ld, T(0));
    }
    wrows = padded;
  }
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), rows = (chunks.end(ch) - first) * positions;
    T* col = detail::thread_scratch<T>(Slot::s0, rows * ld);  // row (n,p): the receptive field of position p
    for (std::int64_t n = first; n < chunks.end(ch); ++n)
      detail::im2col_patches(g, x + n * in_size, col + (n - first) * positions * ld, ld);
    if (ld != taps)
      for (std::int64_t r = 0; r < rows; ++r) std::fill(col + r * ld + taps, col + (r + 1) * ld, T(0));
    const T* ap[detail::kDotRowsA];
    const T* bp[detail::kDotRowsB];
    T out[detail::kDotRowsA * detail::kDotRowsB];
    for (std::int64_t r0 = 0; r0 < rows; r0 += detail::kDotRowsB) {
      const int rv = static_cast<int>(std::min<std::int64_t>(detail::kDotRowsB, rows - r0));
      for (int v = 0; v < rv; ++v) bp[v] = col + (r0 + v) * ld;
      for (std::int64_t o0 = 0; o0 < outputs; o0 += detail::kDotRowsA) {
        const int ru = static_cast<int>(std::min<std::int64_t>(detail::kDotRowsA, outputs - o0));
        for (int u = 0; u < ru; ++u) ap[u] = wrows + (o0 + u) * ld;
        detail::dot_block(ld, ap, ru, bp, rv, out, rv);
        for (int v = 0; v < rv; ++v) {
          const std::int64_t row = first * positions + r0 + v, n = row / positions, p = row % positions;
          for (int u = 0; u < ru; ++u)
            y[n * out_size + (o0 + u) * positions + p] = out[u * rv + v] + (bias ? bias[o0 + u] : T(0));
        }
      }
    }
    detail::activate_in_place(activation, y + first * out_size, (chunks.end(ch) - first) * out_size);
  }, batch * outputs * positions * taps);
}

// Backward, per sample n, with G = dL/dy[n] [O,P] and col(x) as in the forward:
//   dL/dW [O,K]   = sum_n G col^T       (a dot over positions per connected (o,k), summed lane-wise over the
//                                        chunk's samples, then over chunks in order)
//   dL/dbias [O]  = sum_n sum_p G[:,p]
//   dL/dx[n]      = col^adjoint(W^T G)   (W^T G [K,P]: each tap's row sums over the maps it feeds; the adjoint
//                                        adds tap k's row back where col took it from)
// In the shifted layout G is placed on the Wp-wide grid with 0 in the dropped columns, so those add nothing,
// and the adjoint is gathered: each input position sums the kh kw tap rows that read it
// (gather_shifted_adjoint). With plan.direct_weights and plan.direct_input, dL/dW and dL/dx are the same
// sums vectorised over the output maps from G transposed to [P, L] (direct_weight_gradient,
// direct_input_gradient: for C3's shape, whole output rows in registers), and no grid is built.
template <class T>
void conv_backward(const ConvPlan& plan, std::int64_t batch, const T* x, const T* w, const T* g_out, const T* y,
                   Activation activation, T* gx, T* gw, T* gb) {
  using detail::Slot;
  const detail::ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs, ow = g.out_w;
  const std::int64_t taps_per_map = g.kh * g.kw;
  const std::int64_t in_size = g.channels * g.height * g.width, out_size = outputs * positions;
  const auto chunks = detail::sample_chunks(batch);
  // Partial sums of dL/dW per chunk (the patch-major layout sums over the whole batch at the end instead,
  // from these buffers of G' [(n,p),O] and col [(n,p),K] for all rows).
  const bool patch_major = plan.layout == ConvLayout::patch_major;
  detail::ChunkPartials<T> part_w(chunks.count, gw, gw && !patch_major ? outputs * taps : 0, Slot::partials_a);
  T* batch_gt = patch_major ? detail::thread_scratch<T>(Slot::batch_a, batch * positions * outputs) : nullptr;
  T* batch_col = patch_major && gw ? detail::thread_scratch<T>(Slot::batch_b, batch * positions * taps) : nullptr;
  detail::ChunkPartials<T> part_b(chunks.count, gb, gb ? outputs : 0, Slot::partials_b);
  // The weights in direct_input_gradient's layout, once per call, on this thread, read by all.
  T* packed_w = nullptr;
  if (gx && plan.direct_input) {
    packed_w = detail::thread_scratch<T>(Slot::batch_a, detail::round_up(outputs, detail::kWideLanes<T>) * taps);
    pack_for_maps_vectorised(plan, w, static_cast<const T*>(nullptr), packed_w, static_cast<T*>(nullptr));
  }
  detail::parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), last = chunks.end(ch);
    T* pw = part_w.chunk(ch);
    T* pb = part_b.chunk(ch);
    // G = dL/dz for the chunk's samples, as gy[(n - first) out_size + ...]: dL/dy itself without an
    // activation, else dL/dy f'(z) (from y) computed here, into scratch that stays in the cache for the
    // passes below, instead of in a pass over the whole batch of its own.
    const T* gy = g_out + first * out_size;
    if (activation != Activation::none) {
      T* gz = detail::thread_scratch<T>(Slot::s6, (last - first) * out_size);
      detail::activation_gradient(activation, y + first * out_size, gy, gz, (last - first) * out_size);
      gy = gz;
    }
    // (The shifted layout's maps-vectorised dL/dW sums dL/dbias from its transposed G instead.)
    const bool bias_from_transposed = plan.layout == ConvLayout::shifted && plan.direct_weights && gw;
    if (gb && !bias_from_transposed)
      for (std::int64_t n = first; n < last; ++n)
        for (std::int64_t o = 0; o < outputs; ++o)
          pb[o] += detail::sum_lanes(gy + (n - first) * out_size + o * positions, positions);
    // dL/dW's dot products, one DotSums per output group (not used by the patch-major layout).
    const bool use_dots = gw && plan.layout != ConvLayout::patch_major && !plan.direct_weights;
    auto* dot_acc = use_dots ? detail::thread_scratch<detail::Wide<T>>(Slot::s5, plan.dot_accumulators) : nullptr;
    const auto for_each_dots = [&](auto&& body) {
      detail::Wide<T>* acc = dot_acc;
      for (const auto& group : plan.output_groups) {
        body(group, acc);
        acc += detail::DotSums<T>::accumulators(group);
      }
    };
    if (use_dots)
      for_each_dots([](const detail::RowGroup& group, detail::Wide<T>* acc) { detail::DotSums<T>(group, acc); });

    if (plan.layout == ConvLayout::shifted) {
      // The chunk's m samples one after another: G on the grid (dropped columns 0) and the padded inputs,
      // so that dL/dW's dot products can run over several samples with their sums in registers
      // (DotSums::add decides how many a pass). The maps-vectorised kernels read G transposed instead.
      const std::int64_t cols = detail::round_up(plan.grid, detail::kWideLanes<T>), wp = plan.padded_w;
      const std::int64_t m = last - first;
      const std::int64_t grid_size = outputs * cols;
      const bool direct_input = gx && plan.direct_input;
      const bool on_grid = (gw && !plan.direct_weights) || (gx && !direct_input);
      T* grids = on_grid ? detail::thread_scratch<T>(Slot::s0, m * grid_size) : nullptr;
      T* padded = gw ? detail::thread_scratch<T>(Slot::s1, m * plan.padded_size) : nullptr;
      T* gt = nullptr;
      if ((gw && plan.direct_weights) || direct_input) {
        gt = detail::thread_scratch<T>(Slot::s4, detail::round_up(outputs, detail::kWideLanes<T>) * m * positions);
        transpose_output_gradient(plan, m, gy, gt);
      }
      if (grids) std::fill_n(grids, m * grid_size, T(0));
      if (padded) std::fill_n(padded, m * plan.padded_size, T(0));
      for (std::int64_t n = first; n < last; ++n) {
        T* grid = grids + (n - first) * grid_size;
        if (grids)
          for (std::int64_t o = 0; o < outputs; ++o)
            for (std::int64_t i = 0; i < g.out_h; ++i)
              detail::copy_short(gy + (n - first) * out_size + o * positions + i * ow, ow, grid + o * cols + i * wp);
        if (padded) pad_into(plan, x + n * in_size, padded + (n - first) * plan.padded_size);
      }
      if (gw && plan.direct_weights) {
        add_weight_gradient_maps_vectorised(plan, m, gt, padded, pw, gb ? pb : nullptr);
      } else if (gw) {
        const detail::RowsOf<T> x_rows{padded, 0, plan.tap_offsets.data()};
        const detail::SampleSteps samples{m, grid_size, plan.padded_size};
        for_each_dots([&](const detail::RowGroup& group, detail::Wide<T>* acc) {
          detail::DotSums<T>::resume(group, acc).add(cols, grids, cols, x_rows, samples);
        });
      }
      if (direct_input) {
        // Per sample, each L maps' share of dL/dx from their transposed G and the packed weights.
        constexpr std::int64_t L = detail::kWideLanes<T>;
        for (std::int64_t n = first; n < last; ++n)
          for (std::int64_t o0 = 0; o0 < outputs; o0 += L)
            detail::direct_input_gradient(g, gt + (o0 / L * m + (n - first)) * positions * L, packed_w + o0 * taps,
                                          gx + n * in_size, o0 > 0);
      } else if (gx) {
        // dL/dcol's rows with zero margins each side, which gather_shifted_adjoint reads; zeroed once here
        // (the products write only the rows' cols columns).
        const std::int64_t margin = detail::shifted_adjoint_margin<T>(g, wp), dcol_ld = margin + cols + margin;
        T* dcol_rows = detail::thread_scratch<T>(Slot::s3, taps_per_map * dcol_ld);
        for (std::int64_t k = 0; k < taps_per_map; ++k) {
          std::fill_n(dcol_rows + k * dcol_ld, margin, T(0));
          std::fill_n(dcol_rows + k * dcol_ld + margin + cols, margin, T(0));
        }
        T* dcol = dcol_rows + margin;
        for (std::int64_t n = first; n < last; ++n) {
          const T* grid = grids + (n - first) * grid_size;
          // Map by map, into one map's rows of dL/dcol, gathered while they are in the L1 cache.
          for (std::int64_t c = 0; c < g.channels; ++c) {
            detail::panel_product(plan.tap_groups[static_cast<std::size_t>(c)], cols, w + c * taps_per_map, 1, taps,
                                  detail::RowsOf<T>{grid, cols}, dcol, dcol_ld, false);
            detail::gather_shifted_adjoint(g, wp, dcol, dcol_ld, gx + n * in_size + c * g.height * g.width);
          }
        }
      }
    } else if (plan.layout == ConvLayout::im2col) {
      // The chunk's samples side by side: G' [O, m ld], col [K, m ld] (each sample's ld >= P columns).
      const std::int64_t ld = detail::round_up(positions, detail::kWideLanes<T>), m = last - first, cols = m * ld;
      T* gcat = detail::thread_scratch<T>(Slot::s0, outputs * cols);
      zero_padding(gcat, outputs, m, positions, ld);
      for (std::int64_t n = first; n < last; ++n)
        for (std::int64_t o = 0; o < outputs; ++o)
          detail::copy_short(gy + (n - first) * out_size + o * positions, positions, gcat + o * cols + (n - first) * ld);
      if (gw) {
        T* col = detail::thread_scratch<T>(Slot::s1, taps * cols);
        zero_padding(col, taps, m, positions, ld);
        for (std::int64_t n = first; n < last; ++n) detail::im2col(g, x + n * in_size, col + (n - first) * ld, cols);
        for_each_dots([&](const detail::RowGroup& group, detail::Wide<T>* acc) {
          detail::DotSums<T>::resume(group, acc).add(cols, gcat, cols, detail::RowsOf<T>{col, cols});
        });
      }
      if (gx) {
        T* dcol = detail::thread_scratch<T>(Slot::s2, taps * cols);
        for (std::int64_t c = 0; c < g.channels; ++c)
          detail::panel_product(plan.tap_groups[static_cast<std::size_t>(c)], cols, w + c * taps_per_map, 1, taps,
                                detail::RowsOf<T>{gcat, cols}, dcol + c * taps_per_map * cols, cols, false);
        for (std::int64_t n = first; n < last; ++n) {
          T* gxn = gx + n * in_size;
          std::fill(gxn, gxn + in_size, T(0));
          detail::col2im_add(g, dcol + (n - first) * ld, cols, gxn);
        }
      }
    } else {
      // The chunk's rows (n,p) of G' [(n,p),O] and of col, in the whole batch's buffers: dL/dW sums over
      // all of them below, after this loop.
      const std::int64_t rows = (last - first) * positions;
      const detail::Range all_outputs{0, outputs};
      T* gt = batch_gt + first * positions * outputs;
      for (std::int64_t n = first; n < last; ++n)
        for (std::int64_t o = 0; o < outputs; ++o)
          for (std::int64_t p = 0; p < positions; ++p)
            gt[((n - first) * positions + p) * outputs + o] = gy[(n - first) * out_size + o * positions + p];
      if (gw)
        for (std::int64_t n = first; n < last; ++n)
          detail::im2col_patches(g, x + n * in_size, batch_col + n * positions * taps);
      if (gx) {
        T* dcol = detail::thread_scratch<T>(Slot::s2, rows * taps);
        detail::panel_product(detail::RowList{nullptr, rows, 0}, std::span(&all_outputs, 1), taps, gt, outputs, 1,
                              detail::RowsOf<T>{w, taps}, dcol, taps, false);
        for (std::int64_t n = first; n < last; ++n) {
          T* gxn = gx + n * in_size;
          std::fill(gxn, gxn + in_size, T(0));
          detail::col2im_patches_add(g, dcol + (n - first) * positions * taps, gxn);
        }
      }
    }
    if (use_dots)
      for_each_dots([&](const detail::RowGroup& group, detail::Wide<T>* acc) {
        detail::DotSums<T>::resume(group, acc).add_into(pw, taps);
      });
  }, 2 * batch * outputs * positions * taps);
  part_w.reduce();
  part_b.reduce();
  if (plan.layout == ConvLayout::patch_major && gw) {
    // dL/dW [O,K] = G'^T col over all the batch's rows (n,p) in order, the maps split over the threads: no
    // partial sums per chunk (for C5, 8 x 48,000 of them) to write and add.
    detail::weight_gradient_by_rows(batch * positions, outputs, taps, batch_gt, batch_col, gw);
  }
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  check_arguments(x, weight, bias, options);
  std::shared_ptr<const ConvPlan> plan = plan_for(x, weight, options);
  const std::int64_t batch = x.size(0);
  Tensor out = empty({batch, plan->outputs, plan->geo.out_h, plan->geo.out_w}, x.dtype());
  dispatch_floating(x.dtype(), "conv2d", [&](auto type) {
    using T = decltype(type);
    conv_forward<T>(*plan, batch, x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                    options.activation, out.data<T>());
  });
  // With an activation f, y = f(z) for the convolution z, and first G = dL/dz = dL/dy f'(z), from y.
  // Then, with G = dL/dz [N,O,OH,OW] and col = im2col(x):
  // dL/dx [N,C,H,W] = col2im(W^T G);  dL/dW [O,C,kh,kw] = sum_n G col^T (0 where unconnected);
  // dL/dbias [O] = sum over n, i, j of G
  const Activation activation = options.activation;
  auto [name, y] = detail::fused_activation("conv2d", activation, out);
  return record(name, out, {x, weight, bias}, [plan, activation, y](const Tensor& g, const std::vector<Tensor>& in) {
    const bool need_x = in[0].requires_grad(), need_w = in[1].requires_grad();
    const bool need_b = in[2].defined() && in[2].requires_grad();
    Tensor gx = need_x ? empty(in[0].shape(), g.dtype()) : Tensor();
    Tensor gw = need_w ? empty(in[1].shape(), g.dtype()) : Tensor();
    Tensor gb = need_b ? empty(in[2].shape(), g.dtype()) : Tensor();
    dispatch_floating(g.dtype(), "conv2d backward", [&](auto type) {
      using T = decltype(type);
      conv_backward<T>(*plan, in[0].size(0), in[0].data<T>(), in[1].data<T>(), g.data<T>(),
                       activation == Activation::none ? nullptr : y.data<T>(), activation,
                       need_x ? gx.data<T>() : nullptr, need_w ? gw.data<T>() : nullptr,
                       need_b ? gb.data<T>() : nullptr);
    });
    return std::vector<Tensor>{gx, gw, gb};
  });
}

}  // namespace ag
