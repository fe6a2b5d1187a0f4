#include "apps/image/png_codec.h"

#include <fmt/format.h>
#include <png.h>

namespace ag::image {

namespace {

/// Frees a png_image's libpng state however the decoder leaves (png_image_free is safe to call twice).
struct PngImageGuard {
  png_image& image;
  ~PngImageGuard() { png_image_free(&image); }
};

png_uint_32 png_format(int channels) {
  switch (channels) {
    case 1: return PNG_FORMAT_GRAY;
    case 2: return PNG_FORMAT_GA;
    case 3: return PNG_FORMAT_RGB;
    default: return PNG_FORMAT_RGBA;
  }
}

}  // namespace

Image decode_png(std::span<const std::uint8_t> bytes, const std::string& name) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  const PngImageGuard guard{png};
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    throw ImageError(fmt::format("{}: not a valid PNG file ({})", name, png.message));
  check_dimensions(name, png.width, png.height);
  Image image = make_image(png.width, png.height, 4);
  png.format = PNG_FORMAT_RGBA;
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr))
    throw ImageError(fmt::format("{}: a damaged PNG file ({})", name, png.message));
  return image;
}

std::vector<std::uint8_t> encode_png(const Image& image) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = png_format(image.channels);
  const PngImageGuard guard{png};
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&png, nullptr, &size, 0, image.pixels.data(), 0, nullptr))
    throw ImageError(fmt::format("encode_png: {}x{} image: {}", image.width, image.height, png.message));
  std::vector<std::uint8_t> out(size);
  if (!png_image_write_to_memory(&png, out.data(), &size, 0, image.pixels.data(), 0, nullptr))
    throw ImageError(fmt::format("encode_png: {}x{} image: {}", image.width, image.height, png.message));
  out.resize(size);
  return out;
}

std::string base64(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = bytes.size() - i;
    const std::uint32_t chunk = std::uint32_t{bytes[i]} << 16 | (left > 1 ? std::uint32_t{bytes[i + 1]} << 8 : 0) |
                                (left > 2 ? std::uint32_t{bytes[i + 2]} : 0);
    out += kDigits[chunk >> 18 & 63];
    out += kDigits[chunk >> 12 & 63];
    out += left > 1 ? kDigits[chunk >> 6 & 63] : '=';
    out += left > 2 ? kDigits[chunk & 63] : '=';
  }
  return out;
}

std::string png_data_uri(const Image& image) { return "data:image/png;base64," + base64(encode_png(image)); }

}  // namespace ag::image
