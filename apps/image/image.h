#pragma once
/// 8-bit images in memory, and the limits every decoder here enforces on untrusted files.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ag::image {

/// The exception the image decoders throw; what() names the file and what is wrong with it.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An image of height rows of width pixels, each `channels` bytes: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
/// Row-major, top row first, channels interleaved; 0 is black and 255 white, alpha 255 is opaque.
struct Image {
  std::int64_t width = 0;
  std::int64_t height = 0;
  int channels = 1;
  std::vector<std::uint8_t> pixels;  ///< [height, width, channels]

  /// Returns the byte of channel `c` of pixel (x, y).
  std::uint8_t at(std::int64_t x, std::int64_t y, int c = 0) const {
    return pixels[static_cast<std::size_t>((y * width + x) * channels + c)];
  }
};

/// Returns a black image [height, width, channels] (1 <= channels <= 4), after check_dimensions.
Image make_image(std::int64_t width, std::int64_t height, int channels);

/// Throws ImageError naming `name` when width x height is empty or exceeds kMaxSide or kMaxPixels.
void check_dimensions(const std::string& name, std::int64_t width, std::int64_t height);

/// Files larger than this are refused before they are read.
inline constexpr std::int64_t kMaxFileBytes = std::int64_t{64} << 20;
/// Images wider or taller than this are refused before their pixels are decoded.
inline constexpr std::int64_t kMaxSide = 16384;
/// Images of more pixels than this are refused before their pixels are decoded.
inline constexpr std::int64_t kMaxPixels = std::int64_t{40} << 20;

}  // namespace ag::image
