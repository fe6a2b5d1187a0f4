// Affine distortions of training images: the random map of each sample, and warping an image by it.
#include "nn/data/distortion.h"

#include <algorithm>
#include <cmath>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace ag::data {
namespace {

/// SplitMix64's output function: a well-mixed 64-bit value of `x`. A sample's random numbers come from hashing
/// (seed, key, draw) rather than from a generator's stream, so that no sample depends on those before it.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// Returns a uniform value in [-limit, limit] for draw `draw` of sample `key` under `seed`.
double symmetric(double limit, std::uint64_t seed, std::uint64_t key, std::uint64_t draw) {
  const std::uint64_t bits = mix(mix(mix(seed) ^ key) ^ draw);
  const double unit = static_cast<double>(bits >> 11) * 0x1.0p-53;  // [0, 1)
  return limit * (2 * unit - 1);
}

void check_limits(const Distortions& limits) {
  const auto bad = [](double v, double most) { return !std::isfinite(v) || v < 0 || v >= most; };
  if (bad(limits.translate, 1e6) || bad(limits.scale, 1) || bad(limits.squeeze, 1) || bad(limits.shear, 1e6))
    fail("random_affine", "magnitudes must be finite and >= 0, scale and squeeze below 1; got translate {}, "
                          "scale {}, squeeze {}, shear {}",
         limits.translate, limits.scale, limits.squeeze, limits.shear);
}

/// Returns src at (x, y) (column, row; may be fractional or outside), interpolated bilinearly, 0 outside.
double sample(std::span<const std::uint8_t> src, std::int64_t rows, std::int64_t cols, double x, double y) {
  const double fx = std::floor(x), fy = std::floor(y);
  const auto x0 = static_cast<std::int64_t>(fx), y0 = static_cast<std::int64_t>(fy);
  const double ax = x - fx, ay = y - fy;
  const auto at = [&](std::int64_t r, std::int64_t c) -> double {
    if (r < 0 || r >= rows || c < 0 || c >= cols) return 0.0;
    return src[static_cast<std::size_t>(r * cols + c)];
  };
  const double top = (1 - ax) * at(y0, x0) + ax * at(y0, x0 + 1);
  const double bottom = (1 - ax) * at(y0 + 1, x0) + ax * at(y0 + 1, x0 + 1);
  return (1 - ay) * top + ay * bottom;
}

}  // namespace

Affine random_affine(const Distortions& limits, std::uint64_t seed, std::uint64_t key) {
  check_limits(limits);
  const double scale = 1 + symmetric(limits.scale, seed, key, 0);
  const double squeeze = 1 + symmetric(limits.squeeze, seed, key, 1);
  const double shear = symmetric(limits.shear, seed, key, 2);
  // Shear first, then squeeze, then scale: M = scale diag(squeeze, 1 / squeeze) [[1, shear], [0, 1]].
  Affine map;
  map.xx = scale * squeeze;
  map.xy = scale * squeeze * shear;
  map.yx = 0;
  map.yy = scale / squeeze;
  map.dx = symmetric(limits.translate, seed, key, 3);
  map.dy = symmetric(limits.translate, seed, key, 4);
  return map;
}

void warp_image(std::span<const std::uint8_t> src, std::int64_t rows, std::int64_t cols, const Affine& map,
                std::span<std::uint8_t> dst) {
  const auto pixels = static_cast<std::size_t>(rows * cols);
  if (rows < 1 || cols < 1 || src.size() != pixels || dst.size() != pixels)
    fail("warp_image", "an image of {} x {} needs {} bytes, got {} in and {} out", rows, cols, pixels, src.size(),
         dst.size());
  const double det = map.xx * map.yy - map.xy * map.yx;
  if (!(std::fabs(det) > 1e-12) || !std::isfinite(det)) fail("warp_image", "the map is not invertible (det {})", det);
  // Output pixel p (from the centre) comes from source point M^-1 (p - d): the inverse of a 2 x 2 matrix.
  const double ixx = map.yy / det, ixy = -map.xy / det, iyx = -map.yx / det, iyy = map.xx / det;
  const double cx = (static_cast<double>(cols) - 1) / 2, cy = (static_cast<double>(rows) - 1) / 2;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const double px = static_cast<double>(c) - cx - map.dx, py = static_cast<double>(r) - cy - map.dy;
      const double value = sample(src, rows, cols, cx + ixx * px + ixy * py, cy + iyx * px + iyy * py);
      dst[static_cast<std::size_t>(r * cols + c)] = static_cast<std::uint8_t>(std::lround(std::clamp(value, 0.0, 255.0)));
    }
  }
}

Dataset distorted_samples(const Dataset& data, std::span<const std::int64_t> indices, const Distortions& limits,
                          std::uint64_t seed, std::uint64_t first_key) {
  Dataset out;
  out.rows = data.rows;
  out.cols = data.cols;
  out.count = static_cast<std::int64_t>(indices.size());
  const auto image_bytes = static_cast<std::size_t>(data.rows * data.cols);
  out.images.resize(indices.size() * image_bytes);
  out.labels.resize(indices.size());
  for (std::size_t b = 0; b < indices.size(); ++b) {
    if (indices[b] < 0 || indices[b] >= data.count)
      fail("distorted_samples", "index {} at batch position {} is outside 0..{}", indices[b], b, data.count - 1);
    out.labels[b] = data.labels[static_cast<std::size_t>(indices[b])];
  }
  if (data.rows < 1 || data.cols < 1 || data.images.size() != static_cast<std::size_t>(data.count) * image_bytes)
    fail("distorted_samples", "inconsistent dataset: count {}, {} x {} images, but {} image bytes", data.count,
         data.rows, data.cols, data.images.size());
  random_affine(limits, seed, first_key);  // checks the magnitudes here: nothing may throw on the threads
  // Each image on its own, on the kernel threads: a sample's map depends only on its key, so the images are the
  // same for any thread count.
  parallel_for(
      out.count,
      [&](std::int64_t b) {
        const auto at = static_cast<std::size_t>(b);
        const auto from = static_cast<std::size_t>(indices[at]) * image_bytes;
        const Affine map = random_affine(limits, seed, first_key + at);
        warp_image(std::span(data.images).subspan(from, image_bytes), data.rows, data.cols, map,
                   std::span(out.images).subspan(at * image_bytes, image_bytes));
      },
      out.count * static_cast<std::int64_t>(image_bytes) * 24);
  return out;
}

}  // namespace ag::data
