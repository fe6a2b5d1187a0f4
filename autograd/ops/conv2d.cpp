#include "autograd/ops/conv2d.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "autograd/detail/batch_kernels.h"
#include "autograd/detail/conv_kernels.h"
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
      {0, 1, 2},    {1, 2, 3},    {2, 3, 4},    {3, 4, 5},    {4, 5, 0},    {5, 0, 1},          // 3 inputs
      {0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 0}, {4, 5, 0, 1}, {5, 0, 1, 2},       // 4 contiguous
      {0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5},                                                 // 4 split
      {0, 1, 2, 3, 4, 5}};                                                                      // all 6
  std::vector<std::uint8_t> entries(16 * 6, 0);
  for (std::size_t o = 0; o < reads.size(); ++o)
    for (int c : reads[o]) entries[o * 6 + static_cast<std::size_t>(c)] = 1;
  return ConnectionTable(16, 6, std::move(entries));
}

std::int64_t ConnectionTable::count() const { return std::count(entries_.begin(), entries_.end(), std::uint8_t{1}); }

std::string ConnectionTable::size_str() const { return fmt::format("{}x{}", outputs_, inputs_); }

namespace {

/// Outputs with fewer positions than this use the patch-major layout (see conv_kernels.h), which vectorises
/// over output maps instead of positions and stacks the samples of a chunk; tables always use channel-major.
constexpr std::int64_t kPatchMajorBelow = 16;

/// Everything the forward and backward kernels need to know about one call, shared by the backward rule.
struct ConvPlan {
  detail::ConvGeometry geo;
  std::int64_t outputs = 0;
  bool channel_major = true;
  std::vector<detail::RowGroup> output_rows;  // rows o of weight and output, summing over taps k
  std::vector<detail::RowGroup> tap_rows;     // rows k of the columns' gradient, summing over output maps o
};

/// Returns the runs of consecutive true flags as ranges, each bound multiplied by `scale`.
std::vector<detail::Range> runs(const std::vector<bool>& on, std::int64_t scale) {
  std::vector<detail::Range> out;
  for (std::size_t i = 0; i < on.size(); ++i) {
    if (!on[i]) continue;
    const auto b = static_cast<std::int64_t>(i);
    if (!out.empty() && out.back().end == b * scale) out.back().end = (b + 1) * scale;
    else out.push_back({b * scale, (b + 1) * scale});
  }
  return out;
}

/// Appends rows [first, last) summing over `ks`, merged into the previous group when it sums over the same.
void add_rows(std::vector<detail::RowGroup>& groups, std::int64_t first, std::int64_t last, std::vector<detail::Range> ks) {
  if (!groups.empty() && groups.back().last == first && groups.back().ks == ks) groups.back().last = last;
  else groups.push_back({first, last, std::move(ks)});
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
  if (options.padding < 0)
    fail("conv2d", "padding must be at least 0, got {}: {}", options.padding, shapes(x, weight));
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
  plan.channel_major = options.table.has_value() || g.positions() >= kPatchMajorBelow;
  if (!options.table) {
    plan.output_rows.push_back({0, plan.outputs, {{0, taps}}});
    plan.tap_rows.push_back({0, taps, {{0, plan.outputs}}});
    return plan;
  }
  const ConnectionTable& table = *options.table;
  for (std::int64_t o = 0; o < plan.outputs; ++o) {
    std::vector<bool> reads(static_cast<std::size_t>(g.channels));
    for (std::int64_t c = 0; c < g.channels; ++c) reads[static_cast<std::size_t>(c)] = table.connected(o, c);
    add_rows(plan.output_rows, o, o + 1, runs(reads, taps_per_map));
  }
  for (std::int64_t c = 0; c < g.channels; ++c) {
    std::vector<bool> read_by(static_cast<std::size_t>(plan.outputs));
    for (std::int64_t o = 0; o < plan.outputs; ++o) read_by[static_cast<std::size_t>(o)] = table.connected(o, c);
    add_rows(plan.tap_rows, c * taps_per_map, (c + 1) * taps_per_map, runs(read_by, 1));
  }
  return plan;
}

// Forward, per sample n (chunks of samples are independent):
//   channel-major: col = im2col(x[n]) [K,P];  y[n] [O,P] = bias + W [O,K] col       (only connected taps)
//   patch-major:   rows (n,p) of a chunk stacked: Y^T [(n,p),O] = col [(n,p),K] W^T [K,O];  y = Y + bias
template <class T>
void conv_forward(const ConvPlan& plan, std::int64_t batch, const T* x, const T* w, const T* bias, T* y) {
  const detail::ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs;
  const std::int64_t in_size = g.channels * g.height * g.width, out_size = outputs * positions;
  const auto chunks = detail::sample_chunks(batch);
  if (plan.channel_major) {
    for (std::int64_t ch = 0; ch < chunks.count; ++ch) {
      std::vector<T> col(static_cast<std::size_t>(taps * positions));
      for (std::int64_t n = chunks.begin(ch); n < chunks.end(ch); ++n) {
        detail::im2col(g, x + n * in_size, col.data());
        T* yn = y + n * out_size;
        for (std::int64_t o = 0; o < outputs; ++o)
          std::fill(yn + o * positions, yn + (o + 1) * positions, bias ? bias[o] : T(0));
        for (const auto& rows : plan.output_rows)
          detail::panel_product(rows, positions, w + rows.first * taps, taps, 1, col.data(), positions,
                                yn + rows.first * positions, positions, true);
      }
    }
    return;
  }
  std::vector<T> wt(static_cast<std::size_t>(taps * outputs));  // W^T [K,O]
  for (std::int64_t o = 0; o < outputs; ++o)
    for (std::int64_t k = 0; k < taps; ++k) wt[static_cast<std::size_t>(k * outputs + o)] = w[o * taps + k];
  for (std::int64_t ch = 0; ch < chunks.count; ++ch) {
    const std::int64_t first = chunks.begin(ch), rows = (chunks.end(ch) - first) * positions;
    std::vector<T> col(static_cast<std::size_t>(rows * taps)), prod(static_cast<std::size_t>(rows * outputs));
    for (std::int64_t n = first; n < chunks.end(ch); ++n)
      detail::im2col_patches(g, x + n * in_size, col.data() + (n - first) * positions * taps);
    detail::panel_product(detail::RowGroup{0, rows, {{0, taps}}}, outputs, col.data(), taps, 1, wt.data(), outputs,
                          prod.data(), outputs, false);
    for (std::int64_t n = first; n < chunks.end(ch); ++n)
      for (std::int64_t o = 0; o < outputs; ++o) {
        T* yo = y + n * out_size + o * positions;
        const T* po = prod.data() + (n - first) * positions * outputs + o;
        const T b = bias ? bias[o] : T(0);
        for (std::int64_t p = 0; p < positions; ++p) yo[p] = po[p * outputs] + b;
      }
  }
}

// Backward, per sample n, with G = dL/dy[n] [O,P] and col as in the forward:
//   dL/dW [O,K]   = sum_n G col^T               (a dot over positions per connected (o,k); per-chunk partials)
//   dL/dbias [O]  = sum_n sum_p G[:,p]
//   dL/dx[n]      = col2im(W^T G)  [C,H,W]       (W^T G [K,P]: each tap row sums over the maps it feeds)
// Patch-major: the same with the chunk's rows (n,p) stacked: dL/dW += G^T' col, dcol = G' W, G' = [(n,p),O].
template <class T>
void conv_backward(const ConvPlan& plan, std::int64_t batch, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  const detail::ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs;
  const std::int64_t in_size = g.channels * g.height * g.width, out_size = outputs * positions;
  const auto chunks = detail::sample_chunks(batch);
  detail::ChunkPartials<T> part_w(chunks.count, gw ? outputs * taps : 0), part_b(chunks.count, gb ? outputs : 0);
  for (std::int64_t ch = 0; ch < chunks.count; ++ch) {
    const std::int64_t first = chunks.begin(ch), last = chunks.end(ch);
    T* pw = part_w.chunk(ch);
    T* pb = part_b.chunk(ch);
    if (gb)
      for (std::int64_t n = first; n < last; ++n)
        for (std::int64_t o = 0; o < outputs; ++o) pb[o] += detail::sum_lanes(gy + n * out_size + o * positions, positions);
    if (plan.channel_major) {
      std::vector<T> col(gw ? static_cast<std::size_t>(taps * positions) : 0);
      std::vector<T> dcol(gx ? static_cast<std::size_t>(taps * positions) : 0);
      for (std::int64_t n = first; n < last; ++n) {
        const T* gn = gy + n * out_size;
        if (gw) {
          detail::im2col(g, x + n * in_size, col.data());
          for (const auto& rows : plan.output_rows)
            detail::dot_product(rows, positions, gn + rows.first * positions, positions, col.data(), positions,
                                pw + rows.first * taps, taps);
        }
        if (gx) {
          for (const auto& rows : plan.tap_rows)
            detail::panel_product(rows, positions, w + rows.first, 1, taps, gn, positions,
                                  dcol.data() + rows.first * positions, positions, false);
          T* gxn = gx + n * in_size;
          std::fill(gxn, gxn + in_size, T(0));
          detail::col2im_add(g, dcol.data(), gxn);
        }
      }
      continue;
    }
    const std::int64_t rows = (last - first) * positions;
    std::vector<T> gt(static_cast<std::size_t>(rows * outputs));  // G' [(n,p),O]
    for (std::int64_t n = first; n < last; ++n)
      for (std::int64_t o = 0; o < outputs; ++o)
        for (std::int64_t p = 0; p < positions; ++p)
          gt[static_cast<std::size_t>(((n - first) * positions + p) * outputs + o)] = gy[n * out_size + o * positions + p];
    if (gw) {
      std::vector<T> col(static_cast<std::size_t>(rows * taps));
      for (std::int64_t n = first; n < last; ++n)
        detail::im2col_patches(g, x + n * in_size, col.data() + (n - first) * positions * taps);
      detail::panel_product(detail::RowGroup{0, outputs, {{0, rows}}}, taps, gt.data(), 1, outputs, col.data(), taps,
                            pw, taps, true);
    }
    if (gx) {
      std::vector<T> dcol(static_cast<std::size_t>(rows * taps));
      detail::panel_product(detail::RowGroup{0, rows, {{0, outputs}}}, taps, gt.data(), outputs, 1, w, taps,
                            dcol.data(), taps, false);
      for (std::int64_t n = first; n < last; ++n) {
        T* gxn = gx + n * in_size;
        std::fill(gxn, gxn + in_size, T(0));
        detail::col2im_patches_add(g, dcol.data() + (n - first) * positions * taps, gxn);
      }
    }
  }
  if (gw) part_w.reduce_into(gw);
  if (gb) part_b.reduce_into(gb);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  check_arguments(x, weight, bias, options);
  auto plan = std::make_shared<const ConvPlan>(make_plan(x, weight, options));
  const std::int64_t batch = x.size(0);
  Tensor out = empty({batch, plan->outputs, plan->geo.out_h, plan->geo.out_w}, x.dtype());
  dispatch_floating(x.dtype(), "conv2d", [&](auto type) {
    using T = decltype(type);
    conv_forward<T>(*plan, batch, x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr, out.data<T>());
  });
  // dL/dx [N,C,H,W] = col2im(W^T G);  dL/dW [O,C,kh,kw] = sum_n G col^T (0 where unconnected);
  // dL/dbias [O] = sum over n, i, j of G   (G = dL/dy [N,O,OH,OW], col = im2col(x))
  return record("conv2d", out, {x, weight, bias}, [plan](const Tensor& g, const std::vector<Tensor>& in) {
    const bool need_x = in[0].requires_grad(), need_w = in[1].requires_grad();
    const bool need_b = in[2].defined() && in[2].requires_grad();
    Tensor gx = need_x ? empty(in[0].shape(), g.dtype()) : Tensor();
    Tensor gw = need_w ? empty(in[1].shape(), g.dtype()) : Tensor();
    Tensor gb = need_b ? empty(in[2].shape(), g.dtype()) : Tensor();
    dispatch_floating(g.dtype(), "conv2d backward", [&](auto type) {
      using T = decltype(type);
      conv_backward<T>(*plan, in[0].size(0), in[0].data<T>(), in[1].data<T>(), g.data<T>(),
                       need_x ? gx.data<T>() : nullptr, need_w ? gw.data<T>() : nullptr, need_b ? gb.data<T>() : nullptr);
    });
    return std::vector<Tensor>{gx, gw, gb};
  });
}

}  // namespace ag
