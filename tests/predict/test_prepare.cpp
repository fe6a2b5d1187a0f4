// Preparing pictures the way MNIST was made: polarity, colour and transparency taken out, the bounding box
// scaled into 20x20 with its aspect kept, the centre of mass at the centre of 28x28.
#include <doctest/doctest.h>

#include <apps/predict/predict.h>
#include <apps/predict/prepare.h>

#include <cmath>

using ag::app::kDigitField;
using ag::image::Image;

namespace {

/// A picture w x h of paper grey `paper` with an ink rectangle [x0, x0+rw) x [y0, y0+rh) of grey `ink`.
Image rectangle(std::int64_t w, std::int64_t h, std::int64_t x0, std::int64_t y0, std::int64_t rw, std::int64_t rh,
                std::uint8_t paper, std::uint8_t ink) {
  Image image = ag::image::make_image(w, h, 1);
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x)
      image.pixels[static_cast<std::size_t>(y * w + x)] = x >= x0 && x < x0 + rw && y >= y0 && y < y0 + rh ? ink : paper;
  return image;
}

/// An "L" of two strokes with anti-aliased grey edges, white on black, as MNIST stores digits.
Image l_shape() {
  Image image = rectangle(28, 28, 9, 4, 3, 20, 0, 255);
  for (std::int64_t x = 9; x < 19; ++x)
    for (std::int64_t y = 21; y < 24; ++y) image.pixels[static_cast<std::size_t>(y * 28 + x)] = 255;
  for (std::int64_t y = 4; y < 24; ++y) image.pixels[static_cast<std::size_t>(y * 28 + 12)] = 120;  // a soft edge
  return image;
}

struct Moments {
  double mass = 0, cx = 0, cy = 0;
  std::int64_t x0 = kDigitField, x1 = -1, y0 = kDigitField, y1 = -1;
};

Moments moments(const std::vector<std::uint8_t>& pixels) {
  Moments m;
  for (std::int64_t y = 0; y < kDigitField; ++y)
    for (std::int64_t x = 0; x < kDigitField; ++x) {
      const double v = pixels[static_cast<std::size_t>(y * kDigitField + x)];
      if (v == 0) continue;
      m.mass += v, m.cx += v * static_cast<double>(x), m.cy += v * static_cast<double>(y);  // in pixel indices
      m.x0 = std::min(m.x0, x), m.x1 = std::max(m.x1, x), m.y0 = std::min(m.y0, y), m.y1 = std::max(m.y1, y);
    }
  m.cx /= m.mass;
  m.cy /= m.mass;
  return m;
}

}  // namespace

TEST_CASE("a 60x20 bar anywhere on a 200x100 page becomes a 20x7 bar with its centre of mass at pixel (14, 14)") {
  const auto digit = ag::app::prepare_digit(rectangle(200, 100, 120, 10, 60, 20, 250, 10), "bar.png");
  CHECK(digit.inverted);
  CHECK(digit.box_width == 60);
  CHECK(digit.box_height == 20);
  const Moments m = moments(digit.pixels);
  CHECK(m.x1 - m.x0 + 1 == 20);
  CHECK(m.y1 - m.y0 + 1 == 7);  // 20 * 20 / 60 = 6.67, rounded
  CHECK(std::fabs(m.cx - 14.0) <= 0.5);
  CHECK(std::fabs(m.cy - 14.0) <= 0.5);
  // 20 / 3 of a row each: the bar's rows are full ink, its last row partly (anti-aliased).
  CHECK(digit.pixels[static_cast<std::size_t>((m.y0 + 1) * kDigitField + m.x0)] == 255);
}

TEST_CASE("the same digit dark on light, light on dark, in colour or drawn with transparency prepares identically") {
  const Image original = l_shape();
  const auto reference = ag::app::prepare_digit(original, "l.png");
  CHECK_FALSE(reference.inverted);
  Image inverted = original, coloured = ag::image::make_image(28, 28, 3), layer = ag::image::make_image(28, 28, 4);
  for (std::size_t i = 0; i < original.pixels.size(); ++i) {
    const int a = original.pixels[i];
    inverted.pixels[i] = static_cast<std::uint8_t>(255 - a);
    // Blue ink (20, 40, 200) laid over cream paper (250, 240, 210) with coverage a: luma is linear in a.
    const int paper[3] = {250, 240, 210}, ink[3] = {20, 40, 200};
    for (int c = 0; c < 3; ++c) coloured.pixels[3 * i + static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(std::lround(paper[c] + (ink[c] - paper[c]) * a / 255.0));
    layer.pixels[4 * i + 3] = static_cast<std::uint8_t>(a);  // black ink, alpha = coverage, on nothing
  }
  for (const auto* picture : {&inverted, &coloured, &layer}) {
    const auto digit = ag::app::prepare_digit(*picture, "variant.png");
    CHECK(digit.inverted);
    int worst = 0;
    for (std::size_t i = 0; i < digit.pixels.size(); ++i) worst = std::max(worst, std::abs(digit.pixels[i] - reference.pixels[i]));
    CHECK(worst <= 1);  // 8-bit rounding of the colours
  }
}

TEST_CASE("an MNIST digit (box at most 20x20, centred) comes back unchanged, and so does it scaled up 3 times") {
  const Image original = l_shape();  // its box is 10x20 and its mass centred within a pixel
  const auto same = ag::app::prepare_digit(original, "l.png");
  const Moments before = moments(original.pixels), after = moments(same.pixels);
  CHECK(after.x1 - after.x0 == before.x1 - before.x0);
  CHECK(after.y1 - after.y0 == before.y1 - before.y0);
  Image big = ag::image::make_image(84, 84, 1);
  for (std::int64_t y = 0; y < 84; ++y)
    for (std::int64_t x = 0; x < 84; ++x) big.pixels[static_cast<std::size_t>(y * 84 + x)] = original.at(x / 3, y / 3);
  const auto scaled = ag::app::prepare_digit(big, "big.png");
  CHECK(scaled.box_width == 30);
  int worst = 0;
  for (std::size_t i = 0; i < same.pixels.size(); ++i) worst = std::max(worst, std::abs(scaled.pixels[i] - same.pixels[i]));
  CHECK(worst <= 1);
}

TEST_CASE("area resampling keeps the mean and averages what it shrinks") {
  const std::vector<double> src = {0, 1, 2, 3, 4, 5, 6, 7};  // 4 x 2
  CHECK(ag::app::resample_area(src, 4, 2, 2, 1) == std::vector<double>{2.5, 4.5});
  const auto up = ag::app::resample_area({1, 3}, 2, 1, 4, 2);
  CHECK(up == std::vector<double>{1, 1, 3, 3, 1, 1, 3, 3});
  const auto third = ag::app::resample_area({3, 6, 9}, 3, 1, 2, 1);  // each output covers 1.5 inputs
  CHECK(third[0] == doctest::Approx(4.0));
  CHECK(third[1] == doctest::Approx(8.0));
}

TEST_CASE("a blank or nearly blank picture has no digit, and the error names it") {
  CHECK_THROWS_WITH_AS(ag::app::prepare_digit(rectangle(50, 50, 0, 0, 0, 0, 200, 200), "blank.png"),
                       "blank.png: no digit found: ink and paper differ by 0 grey levels (at least 24 needed)",
                       ag::image::ImageError);
  CHECK_THROWS_AS(ag::app::prepare_digit(rectangle(50, 50, 10, 10, 5, 5, 200, 190), "faint.png"), ag::image::ImageError);
}

TEST_CASE("text art draws paper as blanks and full ink as @") {
  CHECK(ag::app::text_art({-0.1, 1.175, 0.325, -0.1}, 2, -0.1, 1.175) == " @\n- \n");
}
