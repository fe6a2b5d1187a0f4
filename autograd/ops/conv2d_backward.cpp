// conv2d's backward kernel, for each of its layouts (conv_plan.h).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "autograd/detail/activation_rules.h"
#include "autograd/detail/conv_plan.h"
#include "autograd/detail/maps_vectorised_kernels.h"
#include "autograd/detail/product_kernels.h"
#include "autograd/detail/transpose_kernels.h"

namespace ag::detail {

namespace {

/// The chunk's m output gradients gy (one after another) transposed for the maps-vectorised kernels: gt
/// [O/L][m][P][L] (L = kWideLanes<T>), each L maps' G [P, L] per sample, lanes past O 0.
template <class T>
void transpose_output_gradient(const ConvPlan& plan, std::int64_t m, const T* gy, T* gt) {
  constexpr std::int64_t L = kWideLanes<T>;
  const std::int64_t positions = plan.geo.positions(), outputs = plan.outputs, out_size = outputs * positions;
  for (std::int64_t o0 = 0; o0 < outputs; o0 += L)
    for (std::int64_t n = 0; n < m; ++n)
      transpose_rows_into_block(gy + n * out_size + o0 * positions, positions, std::min(L, outputs - o0),
                                gt + (o0 / L * m + n) * positions * L);
}

/// Adds one chunk's dL/dW [O,K] to pw and, when pb is not null, its dL/dbias [O] to pb, vectorised over the
/// output maps (direct_weight_gradient): for each L maps, every tap's sums over the chunk's m samples, from
/// their transposed G (gt, transpose_output_gradient) and padded inputs (m of plan.padded_size).
/// Unconnected (map, tap) pairs keep their 0.
template <class T>
void add_weight_gradient_maps_vectorised(const ConvPlan& plan, std::int64_t m, const T* gt_all, const T* padded, T* pw,
                                         T* pb) {
  constexpr std::int64_t L = kWideLanes<T>;
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), taps_per_map = g.kh * g.kw, positions = g.positions();
  const std::int64_t outputs = plan.outputs;
  auto* acc = thread_scratch<Wide<T>>(Slot::s5, taps);
  T lanes[L];
  for (std::int64_t o0 = 0; o0 < outputs; o0 += L) {
    const std::int64_t maps = std::min(L, outputs - o0);
    const T* gt = gt_all + o0 / L * m * positions * L;
    std::fill_n(acc, taps, Wide<T>{});
    direct_weight_gradient(g, g.padded_w(), m, padded, plan.padded_size, plan.tap_offsets.data(), gt,
                           positions * L, acc);
    // acc [K][L] to rows [maps][K] (register transposes), added to the connected (map, tap) pairs.
    T* rows = thread_scratch<T>(Slot::s2, maps * taps);
    transpose_block_into(reinterpret_cast<const T*>(acc), taps, maps, rows);
    for (std::int64_t l = 0; l < maps; ++l)
      for (std::int64_t c = 0; c < g.channels; ++c)
        if (plan.reads(o0 + l, c))
          for (std::int64_t k = c * taps_per_map; k < (c + 1) * taps_per_map; ++k)
            pw[(o0 + l) * taps + k] += rows[l * taps + k];
    if (!pb) continue;
    // dL/dbias from the same transposed G: four interleaved partial sums (a fixed order), so that the adds
    // do not wait on one another.
    Wide<T> sums[4] = {};
    const std::int64_t count = m * positions;
    std::int64_t q = 0;
    for (; q + 4 <= count; q += 4)
      for (int u = 0; u < 4; ++u) sums[u] += load_wide(gt + (q + u) * L);
    for (; q < count; ++q) sums[0] += load_wide(gt + q * L);
    const Wide<T> bias_sum = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    std::memcpy(lanes, &bias_sum, sizeof lanes);
    for (std::int64_t l = 0; l < maps; ++l) pb[o0 + l] += lanes[l];
  }
}

}  // namespace

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
// direct_input_gradient: for C3's shape, whole output rows in registers), and no grid is built. With
// plan.along_rows, dL/dW (and dL/dbias) is vectorised along G's rows instead
// (add_row_vectorised_weight_gradient: C1), from the padded inputs or, unpadded, x itself.
template <class T>
void conv_backward(const ConvPlan& plan, std::int64_t batch, const T* x, const T* w, const T* g_out, const T* y,
                   Activation activation, T* gx, T* gw, T* gb) {
  const ConvGeometry& g = plan.geo;
  const std::int64_t taps = g.taps(), positions = g.positions(), outputs = plan.outputs, ow = g.out_w;
  const std::int64_t taps_per_map = g.kh * g.kw;
  const std::int64_t in_size = g.channels * g.height * g.width, out_size = outputs * positions;
  const auto chunks = sample_chunks(batch);
  // Partial sums of dL/dW per chunk (the patch-major layout sums over the whole batch at the end instead,
  // from these buffers of G' [(n,p),O] and col [(n,p),K] for all rows).
  const bool patch_major = plan.layout == ConvLayout::patch_major;
  ChunkPartials<T> part_w(chunks.count, gw, gw && !patch_major ? outputs * taps : 0, Slot::partials_a);
  T* batch_gt = patch_major ? thread_scratch<T>(Slot::batch_a, batch * positions * outputs) : nullptr;
  // (col is x itself when the receptive field is the whole input: C5.)
  T* batch_col = patch_major && gw && !g.patch_is_input()
                     ? thread_scratch<T>(Slot::batch_b, batch * positions * taps)
                     : nullptr;
  // With one output position, G' [(n,p),O] is G's own layout: the activation's gradient goes straight there.
  const bool g_into_batch = patch_major && positions == 1;
  ChunkPartials<T> part_b(chunks.count, gb, gb ? outputs : 0, Slot::partials_b);
  // The weights in direct_input_gradient's layout, once per call, on this thread, read by all (in
  // batch_a, which only the patch-major layout uses otherwise).
  T* packed_w = nullptr;
  if (gx && plan.direct_input) {
    packed_w = thread_scratch<T>(Slot::batch_a, round_up(outputs, kWideLanes<T>) * taps);
    pack_for_maps_vectorised(plan, w, static_cast<const T*>(nullptr), packed_w, static_cast<T*>(nullptr));
  }
  parallel_for(chunks.count, [&](std::int64_t ch) {
    const std::int64_t first = chunks.begin(ch), last = chunks.end(ch);
    T* pw = part_w.chunk(ch);
    T* pb = part_b.chunk(ch);
    // G = dL/dz for the chunk's samples, as gy[(n - first) out_size + ...]: dL/dy itself without an
    // activation, else dL/dy f'(z) (from y) computed here, into scratch that stays in the cache for the
    // passes below, instead of in a pass over the whole batch of its own.
    const T* gy = g_out + first * out_size;
    if (activation != Activation::none) {
      T* gz = g_into_batch ? batch_gt + first * out_size : thread_scratch<T>(Slot::s6, (last - first) * out_size);
      activation_gradient(activation, y + first * out_size, gy, gz, (last - first) * out_size);
      gy = gz;
    }
    // (The shifted layout's maps-vectorised dL/dW sums dL/dbias from its transposed G instead.)
    // (and the row-vectorised one from G as it reads it).
    const bool bias_from_transposed =
        plan.layout == ConvLayout::shifted && (plan.direct_weights || plan.rows_vectorised<T>()) && gw;
    if (gb && !bias_from_transposed)
      for (std::int64_t n = first; n < last; ++n)
        for (std::int64_t o = 0; o < outputs; ++o)
          pb[o] += sum_lanes(gy + (n - first) * out_size + o * positions, positions);
    // dL/dW's dot products, one DotSums per output group (not used by the patch-major layout).
    const bool use_dots = gw && plan.layout != ConvLayout::patch_major && !plan.direct_weights;
    auto* dot_acc = use_dots ? thread_scratch<Wide<T>>(Slot::s5, plan.dot_accumulators) : nullptr;
    const auto for_each_dots = [&](auto&& body) {
      Wide<T>* acc = dot_acc;
      for (const auto& group : plan.output_groups) {
        body(group, acc);
        acc += DotSums<T>::accumulators(group);
      }
    };
    if (use_dots)
      for_each_dots([](const RowGroup& group, Wide<T>* acc) { DotSums<T>(group, acc); });

    if (plan.layout == ConvLayout::shifted) {
      // The chunk's m samples one after another: G on the grid (dropped columns 0) and the padded inputs,
      // so that dL/dW's dot products can run over several samples with their sums in registers
      // (DotSums::add decides how many a pass). The maps-vectorised kernels read G transposed instead.
      const std::int64_t cols = round_up(plan.grid, kWideLanes<T>), wp = g.padded_w();
      const std::int64_t m = last - first;
      const std::int64_t grid_size = outputs * cols;
      const bool direct_input = gx && plan.direct_input;
      // The row-vectorised dL/dW reads unpadded inputs in place.
      const bool along_rows = plan.rows_vectorised<T>(), x_in_place = along_rows && g.padding == 0;
      const bool on_grid = (gw && !plan.direct_weights && !along_rows) || (gx && !direct_input);
      T* grids = on_grid ? thread_scratch<T>(Slot::s0, m * grid_size) : nullptr;
      T* padded = gw && !x_in_place ? thread_scratch<T>(Slot::s1, m * plan.padded_size) : nullptr;
      T* gt = nullptr;
      if ((gw && plan.direct_weights && !along_rows) || direct_input) {
        gt = thread_scratch<T>(Slot::s4, round_up(outputs, kWideLanes<T>) * m * positions);
        transpose_output_gradient(plan, m, gy, gt);
      }
      if (grids) std::fill_n(grids, m * grid_size, T(0));
      if (padded) std::fill_n(padded, m * plan.padded_size, T(0));
      for (std::int64_t n = first; n < last; ++n) {
        T* grid = grids + (n - first) * grid_size;
        if (grids)
          for (std::int64_t o = 0; o < outputs; ++o)
            for (std::int64_t i = 0; i < g.out_h; ++i)
              copy_short(gy + (n - first) * out_size + o * positions + i * ow, ow, grid + o * cols + i * wp);
        if (padded) pad_into(plan, x + n * in_size, padded + (n - first) * plan.padded_size);
      }
      if (gw && along_rows) {
        add_row_vectorised_weight_gradient(g, outputs, plan.table.empty() ? nullptr : plan.table.data(), m,
                                           x_in_place ? x + first * in_size : padded,
                                           x_in_place ? in_size : plan.padded_size,
                                           x_in_place ? g.height * g.width : g.padded_h() * wp,
                                           x_in_place ? g.width : wp, gy, pw, gb ? pb : nullptr);
      } else if (gw && plan.direct_weights) {
        add_weight_gradient_maps_vectorised(plan, m, gt, padded, pw, gb ? pb : nullptr);
      } else if (gw) {
        const RowsOf<T> x_rows{padded, 0, plan.tap_offsets.data()};
        const SampleSteps samples{m, grid_size, plan.padded_size};
        for_each_dots([&](const RowGroup& group, Wide<T>* acc) {
          DotSums<T>::resume(group, acc).add(cols, grids, cols, x_rows, samples);
        });
      }
      if (direct_input) {
        // Per sample, each L maps' share of dL/dx from their transposed G and the packed weights.
        constexpr std::int64_t L = kWideLanes<T>;
        for (std::int64_t n = first; n < last; ++n)
          for (std::int64_t o0 = 0; o0 < outputs; o0 += L)
            direct_input_gradient(g, gt + (o0 / L * m + (n - first)) * positions * L, packed_w + o0 * taps,
                                  gx + n * in_size, o0 > 0);
      } else if (gx) {
        // dL/dcol's rows with zero margins each side, which gather_shifted_adjoint reads; zeroed once here
        // (the products write only the rows' cols columns).
        const std::int64_t margin = shifted_adjoint_margin<T>(g, wp), dcol_ld = margin + cols + margin;
        T* dcol_rows = thread_scratch<T>(Slot::s3, taps_per_map * dcol_ld);
        for (std::int64_t k = 0; k < taps_per_map; ++k) {
          std::fill_n(dcol_rows + k * dcol_ld, margin, T(0));
          std::fill_n(dcol_rows + k * dcol_ld + margin + cols, margin, T(0));
        }
        T* dcol = dcol_rows + margin;
        for (std::int64_t n = first; n < last; ++n) {
          const T* grid = grids + (n - first) * grid_size;
          // Map by map, into one map's rows of dL/dcol, gathered while they are in the L1 cache.
          for (std::int64_t c = 0; c < g.channels; ++c) {
            panel_product(plan.tap_groups[static_cast<std::size_t>(c)], cols, w + c * taps_per_map, 1, taps,
                          RowsOf<T>{grid, cols}, dcol, dcol_ld, false);
            gather_shifted_adjoint(g, wp, dcol, dcol_ld, gx + n * in_size + c * g.height * g.width);
          }
        }
      }
    } else if (plan.layout == ConvLayout::im2col) {
      // The chunk's samples side by side: G' [O, m ld], col [K, m ld] (each sample's ld >= P columns).
      const std::int64_t ld = round_up(positions, kWideLanes<T>), m = last - first, cols = m * ld;
      T* gcat = thread_scratch<T>(Slot::s0, outputs * cols);
      zero_padding(gcat, outputs, m, positions, ld);
      for (std::int64_t n = first; n < last; ++n)
        for (std::int64_t o = 0; o < outputs; ++o)
          copy_short(gy + (n - first) * out_size + o * positions, positions, gcat + o * cols + (n - first) * ld);
      if (gw) {
        T* col = thread_scratch<T>(Slot::s1, taps * cols);
        zero_padding(col, taps, m, positions, ld);
        for (std::int64_t n = first; n < last; ++n) im2col(g, x + n * in_size, col + (n - first) * ld, cols);
        for_each_dots([&](const RowGroup& group, Wide<T>* acc) {
          DotSums<T>::resume(group, acc).add(cols, gcat, cols, RowsOf<T>{col, cols});
        });
      }
      if (gx) {
        T* dcol = thread_scratch<T>(Slot::s2, taps * cols);
        for (std::int64_t c = 0; c < g.channels; ++c)
          panel_product(plan.tap_groups[static_cast<std::size_t>(c)], cols, w + c * taps_per_map, 1, taps,
                        RowsOf<T>{gcat, cols}, dcol + c * taps_per_map * cols, cols, false);
        for (std::int64_t n = first; n < last; ++n) {
          T* gxn = gx + n * in_size;
          std::fill(gxn, gxn + in_size, T(0));
          col2im_add(g, dcol + (n - first) * ld, cols, gxn);
        }
      }
    } else {
      // The chunk's rows (n,p) of G' [(n,p),O] and of col, in the whole batch's buffers: dL/dW sums over
      // all of them below, after this loop.
      const std::int64_t rows = (last - first) * positions;
      T* gt = batch_gt + first * positions * outputs;
      if (g_into_batch && gy != gt)
        std::copy_n(gy, rows * outputs, gt);
      else if (!g_into_batch)
        for (std::int64_t n = first; n < last; ++n)
          for (std::int64_t o = 0; o < outputs; ++o)
            for (std::int64_t p = 0; p < positions; ++p)
              gt[((n - first) * positions + p) * outputs + o] = gy[(n - first) * out_size + o * positions + p];
      if (batch_col)
        for (std::int64_t n = first; n < last; ++n)
          im2col_patches(g, x + n * in_size, batch_col + n * positions * taps);
      if (gx) {
        // dL/dcol = G' W, straight into dL/dx when col is x.
        T* dcol = g.patch_is_input() ? gx + first * in_size : thread_scratch<T>(Slot::s2, rows * taps);
        rows_times_weights(rows, outputs, taps, gt, w, dcol, taps);
        if (!g.patch_is_input())
          for (std::int64_t n = first; n < last; ++n) {
            T* gxn = gx + n * in_size;
            std::fill(gxn, gxn + in_size, T(0));
            col2im_patches_add(g, dcol + (n - first) * positions * taps, gxn);
          }
      }
    }
    if (use_dots)
      for_each_dots([&](const RowGroup& group, Wide<T>* acc) {
        DotSums<T>::resume(group, acc).add_into(pw, taps);
      });
  }, 2 * batch * outputs * positions * taps);
  part_w.reduce();
  part_b.reduce();
  if (plan.layout == ConvLayout::patch_major && gw) {
    // dL/dW [O,K] = G'^T col over all the batch's rows (n,p) in order, the maps split over the threads: no
    // partial sums per chunk to write and add.
    weight_gradient_by_rows(batch * positions, outputs, taps, batch_gt, batch_col ? batch_col : x, gw);
  }
}

template void conv_backward<float>(const ConvPlan&, std::int64_t, const float*, const float*, const float*,
                                   const float*, Activation, float*, float*, float*);
template void conv_backward<double>(const ConvPlan&, std::int64_t, const double*, const double*, const double*,
                                    const double*, Activation, double*, double*, double*);

}  // namespace ag::detail
