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

// The samples per pixel of PNG colour type `type` (IHDR): grey, RGB, palette index, grey+alpha, RGBA.
int samples_per_pixel(int type) {
  switch (type) {
    case 2: return 3;
    case 4: return 2;
    case 6: return 4;
    default: return 1;
  }
}

// Refuses a PNG whose header claims more pixels than its bytes can hold, before their memory is taken: the pixels'
// bits, at the header's bit depth, cannot be more than deflate's largest compression factor (1032) times the file.
void check_claim(std::span<const std::uint8_t> bytes, const std::string& name, std::uint64_t width, std::uint64_t height) {
  // IHDR is the first chunk (libpng has checked): its bit depth and colour type follow the width and height.
  constexpr std::size_t kDepth = 24, kColourType = 25;
  constexpr std::uint64_t kMaxDeflateFactor = 1032;
  if (bytes.size() <= kColourType) return;
  const int bits_per_pixel = bytes[kDepth] * samples_per_pixel(bytes[kColourType]);
  const std::uint64_t least = (width * height * static_cast<std::uint64_t>(bits_per_pixel) + 7) / 8;
  if (least > kMaxDeflateFactor * bytes.size())
    throw ImageError(fmt::format("{}: truncated or damaged PNG: the header claims {}x{} pixels of {} bits ({} bytes), "
                                 "more than a file of {} bytes can hold (deflate compresses at most {} to 1)",
                                 name, width, height, bits_per_pixel, least, bytes.size(), kMaxDeflateFactor));
}

}  // namespace

Image decode_png(std::span<const std::uint8_t> bytes, const std::string& name) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  const PngImageGuard guard{png};
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    throw ImageError(fmt::format("{}: not a valid PNG file ({})", name, png.message));
  check_dimensions(name, png.width, png.height);
  check_claim(bytes, name, png.width, png.height);
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
  // One pass into a buffer of the largest size the encoding can have (libpng's bound; the images are small), not
  // a pass to learn the size and another to write: each pass sets up a deflate stream of a few hundred kB, and
  // a report encodes hundreds of images.
  png_alloc_size_t size = PNG_IMAGE_PNG_SIZE_MAX(png);
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
