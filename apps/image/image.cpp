#include "apps/image/image.h"

#include <fmt/format.h>

namespace ag::image {

void check_dimensions(const std::string& name, std::int64_t width, std::int64_t height) {
  if (width <= 0 || height <= 0) throw ImageError(fmt::format("{}: the image is empty ({}x{} pixels)", name, width, height));
  if (width > kMaxSide || height > kMaxSide || width * height > kMaxPixels)
    throw ImageError(fmt::format("{}: the image is too large ({}x{} pixels; at most {} a side and {} in all)", name,
                                 width, height, kMaxSide, kMaxPixels));
}

Image make_image(std::int64_t width, std::int64_t height, int channels) {
  check_dimensions("make_image", width, height);
  if (channels < 1 || channels > 4) throw ImageError(fmt::format("make_image: {} channels; expected 1 to 4", channels));
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.assign(static_cast<std::size_t>(width * height * channels), 0);
  return image;
}

}  // namespace ag::image
