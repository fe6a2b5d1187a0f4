#pragma once
/// The shifted layout's backward (plan.h): what one chunk of samples hands to the kernels that compute its
/// dL/dW (grid.cpp, maps_vectorised.cpp, rows_vectorised.cpp) and its dL/dx (grid.cpp, maps_vectorised.cpp),
/// prepared once by shifted_backward.cpp for whichever kernels the plan's paths name.
#include <cstdint>

#include "kernels/conv/plan.h"

namespace ag::kernels {

/// One chunk of the shifted layout's backward: samples [first, first + m).
template <class T>
struct ShiftedChunk {
  std::int64_t first = 0, m = 0;
  const T* gy = nullptr;          ///< dL/dz of the chunk's samples [m][O,P]; dL/dy when y is set
  const T* y = nullptr;           ///< set when only the weights along the rows read gy: the chunk's outputs
                                  ///< [m][O,P], from which that kernel forms dL/dz itself
  T* grids = nullptr;             ///< G on the Wp-wide grid [m][O][cols], dropped columns 0 (grid kernels)
  const T* padded = nullptr;      ///< the padded inputs [m][padded_size] (dL/dW; null when x is read in place)
  const T* transposed = nullptr;  ///< G for L maps at a time [O/L][m][P][L] (maps-vectorised kernels)
};

/// Returns the number of columns of a sample's grid: the padded grid rounded up to whole vectors.
template <class T>
std::int64_t grid_columns(const ConvPlan& plan) {
  return round_up(plan.grid, kWideLanes<T>);
}

/// Adds the chunk's dL/dW to pw, on the grid (dot products of G's grid rows with the shifted inputs).
template <class T>
void grid_weight_gradient(const ConvPlan& plan, const ShiftedChunk<T>& chunk, T* pw);
/// Writes the chunk's dL/dx: W^T G on the grid, map by map, gathered back to the input.
template <class T>
void grid_input_gradient(const ConvPlan& plan, const ConvBackward<T>& a, const ShiftedChunk<T>& chunk);
/// Writes the m samples' G [m][O,P] as gt [O/L][m][P][L] (L = kWideLanes<T>), lanes past O 0: each L maps'
/// gradient per sample vectorised over the maps, as the maps-vectorised kernels read it.
template <class T>
void transpose_output_gradient(const ConvPlan& plan, std::int64_t m, const T* gy, T* gt);
/// Adds the chunk's dL/dW to pw and, when pb is not null, its dL/dbias to pb, over the output maps.
template <class T>
void maps_vectorised_weight_gradient(const ConvPlan& plan, const ShiftedChunk<T>& chunk, T* pw, T* pb);
/// Writes the chunk's dL/dx over the output maps, from the weights packed by pack_input_weights.
template <class T>
void maps_vectorised_input_gradient(const ConvPlan& plan, const ConvBackward<T>& a, const ShiftedChunk<T>& chunk,
                                    const T* packed_w);
/// Returns W packed for maps_vectorised_input_gradient, in `buffer` (the calling thread's, read by all).
template <class T>
const T* pack_input_weights(const ConvPlan& plan, const T* w, ScratchBuffer& buffer);
/// Adds the chunk's dL/dW to pw and, when pb is not null, its dL/dbias to pb, along the output rows (from
/// the padded inputs, or x itself when unpadded).
template <class T>
void rows_vectorised_weight_gradient(const ConvPlan& plan, const ConvBackward<T>& a, const ShiftedChunk<T>& chunk,
                                     T* pw, T* pb);

}  // namespace ag::kernels
