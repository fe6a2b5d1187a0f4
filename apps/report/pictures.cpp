#include "apps/report/pictures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "apps/image/png_codec.h"
#include "apps/report/html.h"

namespace ag::app {

namespace {

std::uint8_t to_byte(double unit) { return static_cast<std::uint8_t>(std::lround(255 * std::clamp(unit, 0.0, 1.0))); }

}  // namespace

std::string img_tag(const image::Image& image, double scale, std::string_view title) {
  return fmt::format(R"(<img class="px" src="{}" width="{}" height="{}" title="{}" alt="{}">)",
                     image::png_data_uri(image), std::lround(static_cast<double>(image.width) * scale),
                     std::lround(static_cast<double>(image.height) * scale), html::escape(title),
                     html::escape(title));
}

image::Image digit_image(std::span<const std::uint8_t> pixels, std::int64_t cols, std::int64_t rows) {
  image::Image out = image::make_image(cols, rows, 1);
  for (std::size_t i = 0; i < out.pixels.size(); ++i) out.pixels[i] = static_cast<std::uint8_t>(255 - pixels[i]);
  return out;
}

image::Image grey_image(std::span<const double> values, std::int64_t cols, std::int64_t rows, double lo, double hi) {
  image::Image out = image::make_image(cols, rows, 1);
  const double range = hi > lo ? hi - lo : 1.0;
  for (std::size_t i = 0; i < out.pixels.size(); ++i) out.pixels[i] = to_byte(1.0 - (values[i] - lo) / range);
  return out;
}

image::Image diverging_image(std::span<const double> values, std::int64_t cols, std::int64_t rows, double limit) {
  image::Image out = image::make_image(cols, rows, 3);
  const double scale = limit > 0 ? limit : 1.0;
  for (std::size_t i = 0; i < values.size() && i < out.pixels.size() / 3; ++i) {
    const double t = std::clamp(values[i] / scale, -1.0, 1.0);
    // White fades to red (positive) or blue (negative): the channels of the other colour drop with |t|.
    const std::uint8_t fade = to_byte(1.0 - std::fabs(t));
    out.pixels[3 * i] = t < 0 ? fade : 255;
    out.pixels[3 * i + 1] = fade;
    out.pixels[3 * i + 2] = t > 0 ? fade : 255;
  }
  return out;
}

}  // namespace ag::app
