#pragma once
/// Random planar affine distortions of training images (LeCun et al. 1998, section III.C: translation, scaling,
/// squeezing and horizontal shearing), each sample's drawn from the run's seed and its place in the run, so that
/// any thread count and any resume give the same images.
#include <cstdint>
#include <span>

#include "nn/data/mnist.h"

namespace ag::data {

/// The largest magnitude of each distortion; every sample draws each one uniformly in [-m, m]. All 0: none.
struct Distortions {
  double translate = 0;  ///< shift along each axis, in pixels
  double scale = 0;      ///< relative change of size: the image is scaled by 1 + u, u in [-scale, scale]
  double squeeze = 0;    ///< relative change of aspect: x by 1 + u, y by 1 / (1 + u)
  double shear = 0;      ///< horizontal shear: x moves by u times the row's distance from the centre
};

/// A planar affine map of image coordinates (x = column, y = row, from the image's centre):
/// (x, y) -> (xx * x + xy * y + dx, yx * x + yy * y + dy).
struct Affine {
  double xx = 1, xy = 0, yx = 0, yy = 1, dx = 0, dy = 0;
};

/// Returns the distortion of the sample with key `key` (e.g. its position in the run) under `seed`: the same
/// arguments always give the same map. Each magnitude of `limits` must be finite and >= 0 (squeeze and scale < 1).
Affine random_affine(const Distortions& limits, std::uint64_t seed, std::uint64_t key);

/// Writes `src` [rows, cols] (0 = background) moved by `map` into `dst` [rows, cols]: each output pixel is the
/// source sampled bilinearly at the inverse map of its centre (background outside the image), rounded to the
/// nearest byte. `map` must be invertible.
void warp_image(std::span<const std::uint8_t> src, std::int64_t rows, std::int64_t cols, const Affine& map,
                std::span<std::uint8_t> dst);

/// Returns the samples `indices` of `data` [count, rows, cols] as a dataset of indices.size() samples in that
/// order, sample b distorted by random_affine(limits, seed, first_key + b); labels are kept.
Dataset distorted_samples(const Dataset& data, std::span<const std::int64_t> indices, const Distortions& limits,
                          std::uint64_t seed, std::uint64_t first_key);

}  // namespace ag::data
