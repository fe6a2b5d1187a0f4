#include "apps/predict/prepare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ag::app {

namespace {

/// Ink and paper must differ by at least this many grey levels (of 255) for a picture to hold a digit.
constexpr double kMinContrast = 24;

/// Returns the luma of pixel i, transparency composited onto white.
double luma(const image::Image& p, std::size_t i) {
  const std::uint8_t* px = &p.pixels[i * static_cast<std::size_t>(p.channels)];
  const bool colour = p.channels >= 3;
  const double alpha = p.channels == 2 || p.channels == 4 ? px[p.channels - 1] / 255.0 : 1.0;
  const double grey = colour ? 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2] : px[0];
  return grey * alpha + 255.0 * (1.0 - alpha);
}

double median_of_border(const std::vector<double>& grey, std::int64_t w, std::int64_t h) {
  std::vector<double> border;
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x)
      if (y == 0 || y == h - 1 || x == 0 || x == w - 1) border.push_back(grey[static_cast<std::size_t>(y * w + x)]);
  const auto middle = border.begin() + static_cast<std::ptrdiff_t>(border.size() / 2);
  std::nth_element(border.begin(), middle, border.end());
  return *middle;
}

/// The weights of 1-D area resampling: output j covers input [j f, (j + 1) f), f = n_in / n_out, and takes
/// each input cell in proportion to the overlap.
std::vector<std::vector<std::pair<std::int64_t, double>>> area_weights(std::int64_t n_in, std::int64_t n_out) {
  const double f = static_cast<double>(n_in) / static_cast<double>(n_out);
  std::vector<std::vector<std::pair<std::int64_t, double>>> weights(static_cast<std::size_t>(n_out));
  for (std::int64_t j = 0; j < n_out; ++j) {
    const double lo = static_cast<double>(j) * f, hi = lo + f;
    for (auto i = static_cast<std::int64_t>(std::floor(lo)); i < n_in && static_cast<double>(i) < hi; ++i) {
      const double overlap = std::min(hi, static_cast<double>(i + 1)) - std::max(lo, static_cast<double>(i));
      if (overlap > 0) weights[static_cast<std::size_t>(j)].emplace_back(i, overlap / f);
    }
  }
  return weights;
}

}  // namespace

InkImage ink_of(const image::Image& picture, const std::string& name) {
  InkImage out;
  out.width = picture.width;
  out.height = picture.height;
  const auto n = static_cast<std::size_t>(picture.width * picture.height);
  std::vector<double> grey(n);
  for (std::size_t i = 0; i < n; ++i) grey[i] = luma(picture, i);
  const double paper_grey = median_of_border(grey, picture.width, picture.height);
  out.inverted = paper_grey > 127.5;
  if (out.inverted)
    for (double& g : grey) g = 255.0 - g;
  const double paper = out.inverted ? 255.0 - paper_grey : paper_grey;
  const double strongest = *std::max_element(grey.begin(), grey.end());
  if (strongest - paper < kMinContrast)
    throw image::ImageError(fmt::format("{}: no digit found: ink and paper differ by {:.0f} grey levels (at least {:.0f} needed)",
                                        name, strongest - paper, kMinContrast));
  out.ink.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = std::clamp((grey[i] - paper) / (strongest - paper), 0.0, 1.0);
    out.ink[i] = v < kInkFloor ? 0.0 : v;
  }
  return out;
}

std::vector<double> resample_area(const std::vector<double>& src, std::int64_t src_w, std::int64_t src_h,
                                  std::int64_t dst_w, std::int64_t dst_h) {
  const auto wx = area_weights(src_w, dst_w), wy = area_weights(src_h, dst_h);
  std::vector<double> rows(static_cast<std::size_t>(src_h * dst_w));  // resampled along x first
  for (std::int64_t y = 0; y < src_h; ++y)
    for (std::int64_t x = 0; x < dst_w; ++x)
      for (const auto& [i, w] : wx[static_cast<std::size_t>(x)])
        rows[static_cast<std::size_t>(y * dst_w + x)] += w * src[static_cast<std::size_t>(y * src_w + i)];
  std::vector<double> out(static_cast<std::size_t>(dst_h * dst_w));
  for (std::int64_t y = 0; y < dst_h; ++y)
    for (const auto& [i, w] : wy[static_cast<std::size_t>(y)])
      for (std::int64_t x = 0; x < dst_w; ++x)
        out[static_cast<std::size_t>(y * dst_w + x)] += w * rows[static_cast<std::size_t>(i * dst_w + x)];
  return out;
}

PreparedDigit mnist_digit(const InkImage& ink) {
  std::int64_t x0 = ink.width, x1 = -1, y0 = ink.height, y1 = -1;
  for (std::int64_t y = 0; y < ink.height; ++y)
    for (std::int64_t x = 0; x < ink.width; ++x)
      if (ink.ink[static_cast<std::size_t>(y * ink.width + x)] > 0)
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  PreparedDigit out;
  out.inverted = ink.inverted;
  out.pixels.assign(static_cast<std::size_t>(kDigitField * kDigitField), 0);
  if (x1 < 0) return out;  // ink_of guarantees ink; an empty picture stays empty
  out.box_width = x1 - x0 + 1;
  out.box_height = y1 - y0 + 1;
  std::vector<double> box(static_cast<std::size_t>(out.box_width * out.box_height));
  for (std::int64_t y = 0; y < out.box_height; ++y)
    for (std::int64_t x = 0; x < out.box_width; ++x)
      box[static_cast<std::size_t>(y * out.box_width + x)] = ink.ink[static_cast<std::size_t>((y0 + y) * ink.width + x0 + x)];
  const double scale = static_cast<double>(kDigitBox) / static_cast<double>(std::max(out.box_width, out.box_height));
  const std::int64_t w = std::max<std::int64_t>(1, std::lround(static_cast<double>(out.box_width) * scale));
  const std::int64_t h = std::max<std::int64_t>(1, std::lround(static_cast<double>(out.box_height) * scale));
  const std::vector<double> digit = resample_area(box, out.box_width, out.box_height, w, h);
  // The centre of mass in pixel indices goes to pixel (14, 14), as in MNIST, whose digits all have it within
  // half a pixel of there.
  double mass = 0, mx = 0, my = 0;
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      const double v = digit[static_cast<std::size_t>(y * w + x)];
      mass += v, mx += v * static_cast<double>(x), my += v * static_cast<double>(y);
    }
  const double centre = static_cast<double>(kDigitField) / 2;
  const std::int64_t ox = std::lround(centre - mx / mass), oy = std::lround(centre - my / mass);
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      const std::int64_t fx = x + ox, fy = y + oy;
      if (fx < 0 || fy < 0 || fx >= kDigitField || fy >= kDigitField) continue;  // as MNIST: what falls off is cut
      out.pixels[static_cast<std::size_t>(fy * kDigitField + fx)] =
          static_cast<std::uint8_t>(std::lround(255 * std::clamp(digit[static_cast<std::size_t>(y * w + x)], 0.0, 1.0)));
    }
  return out;
}

PreparedDigit prepare_digit(const image::Image& picture, const std::string& name) {
  return mnist_digit(ink_of(picture, name));
}

}  // namespace ag::app
