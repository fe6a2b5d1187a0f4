#pragma once
/// The adjoint of the shifted layout's columns (grid.cpp), gathered rather than scattered: each input value
/// sums the taps that read it, in one pass.
#include <algorithm>
#include <cassert>
#include <cstdint>

#include "kernels/conv/geometry.h"
#include "kernels/simd.h"

namespace ag::kernels {

/// How far before and after its grid's columns a row of the shifted layout's column gradient dcol must read
/// as 0 for gather_shifted_adjoint: the largest tap offset ((kh-1) Wp + kw-1) each way, in whole vectors.
template <class T>
inline std::int64_t shifted_adjoint_margin(const ConvGeometry& g, std::int64_t padded_w) {
  const std::int64_t lanes = kWideLanes<T>, reach = (g.kh - 1) * padded_w + g.kw - 1;
  return (reach + lanes - 1) / lanes * lanes;
}

/// The most output vectors gather_shifted_adjoint sums at once (independent sums, one loop over the taps).
inline constexpr int kGatherVectors = 8;

/// out[v] = sum over taps (ki, kj) in order of rows[(ki kw + kj) ld + t[v] - ki Wp - kj], for the NV vectors
/// (of L = kWideLanes<T> lanes) starting at positions t[v].
template <class T, int NV>
[[gnu::noinline]] void gather_vectors(const T* rows, std::int64_t ld, std::int64_t kh, std::int64_t kw,
                                      std::int64_t padded_w, const std::int64_t* t, T* const* out) {
  Wide<T> acc[NV] = {};
  for (std::int64_t ki = 0; ki < kh; ++ki)
    for (std::int64_t kj = 0; kj < kw; ++kj) {
      const T* row = rows + (ki * kw + kj) * ld - ki * padded_w - kj;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[v] += load_wide(row + t[v]);
    }
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) store_wide(out[v], acc[v]);
}

/// The adjoint of the shifted layout for one input map of one sample, gathered rather than scattered:
///   dx[y, x] = sum_{ki, kj} dcol[ki kw + kj][(y + pad - ki) Wp + (x + pad - kj)]
/// for the map's dx [H,W], stride 1 and padded width Wp; dcol [kh kw, ...] holds the rows of the map's taps,
/// `ld` apart, each the Wp-wide output grid (0 in its dropped columns, so that an index that wraps into the
/// previous row reads 0), reading as 0 for shifted_adjoint_margin() values before and after it. Each output
/// value is one sum over the taps in order: no read-modify-write of dx per tap (tap k+1's stores overlapping
/// tap k's one value apart stalled the scatter form's loads), and nothing to zero.
template <class T>
void gather_shifted_adjoint(const ConvGeometry& g, std::int64_t padded_w, const T* dcol, std::int64_t ld, T* dx) {
  assert(g.stride() == 1);
  constexpr int L = kWideLanes<T>;
  const std::int64_t kh = g.kh, kw = g.kw, map = g.height * g.width;
  // Without padding the padded map is the input map, so a whole map is one run of outputs; else each row.
  const bool whole_maps = g.padding() == 0;
  const std::int64_t runs = whole_maps ? 1 : g.height, run = whole_maps ? map : g.width;
  for (std::int64_t r = 0; r < runs; ++r) {
    const std::int64_t t0 = whole_maps ? 0 : (r + g.padding()) * padded_w + g.padding();
    T* out = dx + r * run;
    if (run < L) {
      for (std::int64_t i = 0; i < run; ++i) {
        T total = 0;
        for (std::int64_t k = 0; k < kh * kw; ++k)
          total += dcol[k * ld + t0 + i - (k / kw) * padded_w - k % kw];
        out[i] = total;
      }
      continue;
    }
    // Whole vectors, the last one moved back to end at `run` (it recomputes a few values, bit for bit),
    // kGatherVectors at a time.
    const std::int64_t vectors = (run + L - 1) / L;
    for (std::int64_t v0 = 0; v0 < vectors; v0 += kGatherVectors) {
      const std::int64_t count = std::min<std::int64_t>(kGatherVectors, vectors - v0);
      std::int64_t t[kGatherVectors];
      T* outs[kGatherVectors];
      for (std::int64_t v = 0; v < count; ++v) {
        const std::int64_t at = std::min((v0 + v) * L, run - L);
        t[v] = t0 + at;
        outs[v] = out + at;
      }
      with_count<kGatherVectors>(count, [&](auto n) {
        gather_vectors<T, decltype(n)::value>(dcol, ld, kh, kw, padded_w, t, outs);
      });
    }
  }
}

}  // namespace ag::kernels
