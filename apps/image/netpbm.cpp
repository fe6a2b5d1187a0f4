#include "apps/image/netpbm.h"

#include <fmt/format.h>

#include <cctype>

namespace ag::image {

namespace {

/// Reads the whitespace- and comment-separated fields of a Netpbm header, and the text samples of P2/P3.
class NetpbmReader {
 public:
  NetpbmReader(std::span<const std::uint8_t> bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  /// Returns the next decimal number, after skipping whitespace and '#' comments; `what` names it in errors.
  std::int64_t number(const char* what) {
    skip_space_and_comments();
    std::int64_t value = 0;
    std::size_t digits = 0;
    for (; pos_ < bytes_.size() && std::isdigit(bytes_[pos_]); ++pos_, ++digits) {
      if (value > 100'000'000) throw ImageError(fmt::format("{}: malformed {}: the {} is too large", name_, kind(), what));
      value = value * 10 + (bytes_[pos_] - '0');
    }
    if (digits == 0)
      throw ImageError(fmt::format("{}: malformed {}: expected the {}, found {}", name_, kind(), what,
                                   pos_ < bytes_.size() ? "another character" : "the end of the file"));
    return value;
  }
  /// Skips the single whitespace byte that ends a binary file's header.
  void end_of_header() {
    if (pos_ >= bytes_.size() || !std::isspace(bytes_[pos_]))
      throw ImageError(fmt::format("{}: malformed {}: no whitespace after the header", name_, kind()));
    ++pos_;
  }
  /// Returns the bytes after the header.
  std::span<const std::uint8_t> rest() const { return bytes_.subspan(pos_); }
  /// Returns "PGM" or "PPM" for messages.
  const char* kind() const { return bytes_[1] == '2' || bytes_[1] == '5' ? "PGM" : "PPM"; }
  /// Moves past the two-byte magic number.
  void skip_magic() { pos_ = 2; }

 private:
  void skip_space_and_comments() {
    while (pos_ < bytes_.size()) {
      if (bytes_[pos_] == '#')
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n') ++pos_;
      else if (std::isspace(bytes_[pos_]))
        ++pos_;
      else
        break;
    }
  }
  std::span<const std::uint8_t> bytes_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

std::uint8_t to_byte(std::int64_t sample, std::int64_t maxval) {
  return static_cast<std::uint8_t>((sample * 255 + maxval / 2) / maxval);
}

}  // namespace

bool looks_like_netpbm(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '3' || bytes[1] == '5' || bytes[1] == '6');
}

Image decode_netpbm(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (!looks_like_netpbm(bytes)) throw ImageError(fmt::format("{}: not a PGM or PPM file", name));
  const bool text = bytes[1] == '2' || bytes[1] == '3';
  const int channels = bytes[1] == '2' || bytes[1] == '5' ? 1 : 3;
  NetpbmReader reader(bytes, name);
  reader.skip_magic();
  const std::int64_t width = reader.number("width"), height = reader.number("height");
  const std::int64_t maxval = reader.number("maximum value");
  if (maxval < 1 || maxval > 65535)
    throw ImageError(fmt::format("{}: malformed {}: maximum value {}; expected 1 to 65535", name, reader.kind(), maxval));
  check_dimensions(name, width, height);
  // The header's sizes are checked against the bytes that follow before the pixels' memory is taken.
  const auto samples = static_cast<std::size_t>(width * height * channels);
  if (text) {
    // Each sample is at least a digit and a separator.
    if (reader.rest().size() + 1 < 2 * samples)
      throw ImageError(fmt::format("{}: truncated {}: {}x{} pixels need at least {} bytes of text, the file holds {}",
                                   name, reader.kind(), width, height, 2 * samples - 1, reader.rest().size()));
    Image image = make_image(width, height, channels);
    for (std::size_t i = 0; i < samples; ++i) {
      const std::int64_t v = reader.number("pixel value");
      if (v > maxval)
        throw ImageError(fmt::format("{}: malformed {}: pixel value {} exceeds the maximum {}", name, reader.kind(), v, maxval));
      image.pixels[i] = to_byte(v, maxval);
    }
    return image;
  }
  reader.end_of_header();
  const std::size_t sample_bytes = maxval > 255 ? 2 : 1;
  const auto raster = reader.rest();
  if (raster.size() < samples * sample_bytes)
    throw ImageError(fmt::format("{}: truncated {}: {}x{} pixels need {} bytes, the file holds {}", name, reader.kind(),
                                 width, height, samples * sample_bytes, raster.size()));
  Image image = make_image(width, height, channels);
  for (std::size_t i = 0; i < samples; ++i) {
    const std::int64_t v = sample_bytes == 2 ? raster[2 * i] << 8 | raster[2 * i + 1] : raster[i];
    image.pixels[i] = to_byte(std::min(v, maxval), maxval);
  }
  return image;
}

}  // namespace ag::image
