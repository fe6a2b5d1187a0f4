#pragma once
/// Arrays of numbers as small pictures inside the page: digits, kernels, feature maps, output codes, each
/// an inline PNG (a data: URI), drawn larger with crisp pixels.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "apps/image/image.h"

namespace ag::app {

/// Returns an <img> showing `image` at `scale` times its size, pixels kept square; `title` is its tooltip.
std::string img_tag(const image::Image& image, double scale, std::string_view title);

/// Returns an MNIST-style digit (rows x cols bytes, 0 background, 255 ink) as a grey image, dark ink on white.
image::Image digit_image(std::span<const std::uint8_t> pixels, std::int64_t cols, std::int64_t rows);

/// Returns values [rows, cols] as a grey image: `lo` (and below) white, `hi` (and above) black.
image::Image grey_image(std::span<const double> values, std::int64_t cols, std::int64_t rows, double lo, double hi);

/// Returns values [rows, cols] as an RGB image: 0 white, -limit and below full blue, +limit and above full red.
image::Image diverging_image(std::span<const double> values, std::int64_t cols, std::int64_t rows, double limit);

}  // namespace ag::app
