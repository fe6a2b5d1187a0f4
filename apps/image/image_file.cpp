#include "apps/image/image_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <span>
#include <string>

#include "apps/image/netpbm.h"
#include "apps/image/png_codec.h"
#include "nn/data/input_file.h"

namespace ag::image {

namespace {

// The whole file, which must be a regular file (after following links) of at most kMaxFileBytes: a FIFO, a
// device or an oversized file is refused before a byte is read, with what it is or the system's reason.
std::string read_bytes(const std::filesystem::path& path, const std::string& name) {
  std::string bytes;
  try {
    data::InputFile file(path, "image file", static_cast<std::uint64_t>(kMaxFileBytes), "an image file may hold");
    bytes = file.read_all();
  } catch (const data::InputFileError& e) {
    throw ImageError(fmt::format("{}: {}", name, e.what()));
  }
  if (bytes.empty()) throw ImageError(fmt::format("{}: the file is empty", name));
  return bytes;
}

}  // namespace

Image read_image_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  const std::string file = read_bytes(path, name);
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(file.data()), file.size());
  if (bytes.size() >= sizeof kPngSignature && std::equal(std::begin(kPngSignature), std::end(kPngSignature), bytes.begin()))
    return decode_png(bytes, name);
  if (looks_like_netpbm(bytes)) return decode_netpbm(bytes, name);
  throw ImageError(fmt::format("{}: not an image this program reads (expected a PNG, PGM or PPM file)", name));
}

void write_png_file(const std::filesystem::path& path, const Image& image) {
  const std::vector<std::uint8_t> bytes = encode_png(image);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw ImageError(fmt::format("{}: cannot write the file", path.string()));
}

}  // namespace ag::image
