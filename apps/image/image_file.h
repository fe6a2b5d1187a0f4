#pragma once
/// Reading an image file of either supported format (PNG, PGM/PPM), and writing PNG files.
#include <filesystem>

#include "apps/image/image.h"

namespace ag::image {

/// Reads the PNG, PGM or PPM file at `path`, told apart by its first bytes. Throws ImageError naming the
/// file when it cannot be opened (with the system's reason), is not a regular file (a FIFO, a device, a folder:
/// refused before a byte is read), is empty, is larger than kMaxFileBytes, is of another format, claims more
/// pixels than it can hold, or is damaged.
Image read_image_file(const std::filesystem::path& path);

/// Writes `image` to `path` as a PNG file. Throws ImageError naming the file when it cannot be written.
void write_png_file(const std::filesystem::path& path, const Image& image);

}  // namespace ag::image
