// Training-image distortions: warping by a known map moves pixels where the map says, each sample's random map
// is a function of (seed, key) within the configured magnitudes, and the identity leaves images as they were.
#include <doctest/doctest.h>

#include <nn/data/distortion.h>
#include <support/thread_count.h>

#include <cmath>
#include <numeric>
#include <vector>

using ag::data::Affine;
using ag::data::Distortions;

namespace {

/// A 5 x 6 image with distinct values: 10 * row + column + 1.
std::vector<std::uint8_t> ramp() {
  std::vector<std::uint8_t> image(30);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 6; ++c) image[static_cast<std::size_t>(r * 6 + c)] = static_cast<std::uint8_t>(10 * r + c + 1);
  return image;
}

std::vector<std::uint8_t> warped(const std::vector<std::uint8_t>& src, const Affine& map) {
  std::vector<std::uint8_t> dst(src.size());
  ag::data::warp_image(src, 5, 6, map, dst);
  return dst;
}

}  // namespace

TEST_CASE("warp_image: the identity keeps the image; whole-pixel shifts move it, background coming in") {
  const auto image = ramp();
  CHECK(warped(image, Affine{}) == image);
  Affine right_down;
  right_down.dx = 1;  // one column to the right
  right_down.dy = 2;  // two rows down
  const auto moved = warped(image, right_down);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 6; ++c) {
      CAPTURE(r);
      CAPTURE(c);
      const int expected = (r < 2 || c < 1) ? 0 : image[static_cast<std::size_t>((r - 2) * 6 + c - 1)];
      CHECK(moved[static_cast<std::size_t>(r * 6 + c)] == expected);
    }
  // Half a column: each pixel the mean of two neighbours, rounded to the nearest byte.
  Affine half;
  half.dx = 0.5;
  const auto blended = warped(image, half);
  CHECK(blended[1] == std::lround((image[0] + image[1]) / 2.0));
  CHECK(blended[0] == std::lround(image[0] / 2.0));  // half of it from outside the image: background
}

TEST_CASE("random_affine: a function of (seed, key), within the magnitudes; zero magnitudes are the identity") {
  const Distortions limits{2.0, 0.1, 0.2, 0.3};
  double largest_shift = 0, largest_shear = 0;
  for (std::uint64_t key = 0; key < 2000; ++key) {
    const Affine a = ag::data::random_affine(limits, 7, key), again = ag::data::random_affine(limits, 7, key);
    CHECK(a.xx == again.xx);
    CHECK(a.dx == again.dx);
    CHECK(a.dy == again.dy);
    CHECK(std::fabs(a.dx) <= 2.0);
    CHECK(std::fabs(a.dy) <= 2.0);
    const double scale = std::sqrt(a.xx * a.yy), squeeze = std::sqrt(a.xx / a.yy), shear = a.xy / a.xx;
    CHECK(scale >= 0.9 - 1e-12);
    CHECK(scale <= 1.1 + 1e-12);
    CHECK(squeeze >= 0.8 - 1e-12);
    CHECK(squeeze <= 1.2 + 1e-12);
    CHECK(std::fabs(shear) <= 0.3 + 1e-12);
    CHECK(a.yx == 0.0);
    largest_shift = std::max(largest_shift, std::fabs(a.dx));
    largest_shear = std::max(largest_shear, std::fabs(shear));
  }
  CHECK(largest_shift > 1.9);  // the draws cover the range
  CHECK(largest_shear > 0.29);
  CHECK(ag::data::random_affine(limits, 7, 1).dx != ag::data::random_affine(limits, 8, 1).dx);
  CHECK(ag::data::random_affine(limits, 7, 1).dx != ag::data::random_affine(limits, 7, 2).dx);
  const Affine none = ag::data::random_affine(Distortions{}, 7, 3);
  CHECK(none.xx == 1.0);
  CHECK(none.xy == 0.0);
  CHECK(none.yy == 1.0);
  CHECK(none.dx == 0.0);
  CHECK_THROWS_WITH_AS(ag::data::random_affine(Distortions{1, 1.5, 0, 0}, 7, 3),
                       doctest::Contains("scale and squeeze below 1"), ag::Error);
}

TEST_CASE("distorted_samples: the chosen samples in order, labels kept, each image by its own key's map") {
  ag::data::Dataset data;
  data.rows = 5;
  data.cols = 6;
  data.count = 3;
  for (int s = 0; s < 3; ++s) {
    const auto image = ramp();
    data.images.insert(data.images.end(), image.begin(), image.end());
    data.labels.push_back(static_cast<std::uint8_t>(s + 4));
  }
  const std::vector<std::int64_t> indices{2, 0};
  const Distortions limits{1.5, 0.1, 0.1, 0.1};
  const ag::data::Dataset out = ag::data::distorted_samples(data, indices, limits, 11, 40);
  REQUIRE(out.count == 2);
  CHECK(out.labels == std::vector<std::uint8_t>{6, 4});
  for (std::size_t b = 0; b < 2; ++b) {
    const std::vector<std::uint8_t> image(out.images.begin() + static_cast<std::ptrdiff_t>(b * 30),
                                          out.images.begin() + static_cast<std::ptrdiff_t>((b + 1) * 30));
    CHECK(image == warped(ramp(), ag::data::random_affine(limits, 11, 40 + b)));
  }
  {
    const ThreadCount two(2);  // the images of any thread count are the same
    CHECK(ag::data::distorted_samples(data, indices, limits, 11, 40).images == out.images);
  }
  CHECK(ag::data::distorted_samples(data, indices, Distortions{}, 11, 40).images ==
        std::vector<std::uint8_t>(data.images.begin(), data.images.begin() + 60));
  CHECK_THROWS_WITH_AS(ag::data::distorted_samples(data, std::vector<std::int64_t>{3}, limits, 11, 0),
                       doctest::Contains("index 3 at batch position 0 is outside 0..2"), ag::Error);
}
