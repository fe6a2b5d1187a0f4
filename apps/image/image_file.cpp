#include "apps/image/image_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "apps/image/netpbm.h"
#include "apps/image/png_codec.h"

namespace ag::image {

namespace {

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path, const std::string& name) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ImageError(fmt::format("{}: is a folder, not an image file", name));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImageError(fmt::format("{}: cannot open the file: {}", name, std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw ImageError(fmt::format("{}: cannot read the file", name));
  if (size == 0) throw ImageError(fmt::format("{}: the file is empty", name));
  if (size > kMaxFileBytes)
    throw ImageError(fmt::format("{}: the file is too large ({} bytes; at most {})", name, size, kMaxFileBytes));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (!in) throw ImageError(fmt::format("{}: cannot read the file", name));
  return bytes;
}

}  // namespace

Image read_image_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  const std::vector<std::uint8_t> bytes = read_bytes(path, name);
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
