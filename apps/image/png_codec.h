#pragma once
/// PNG decoding and encoding through Debian's libpng (its simplified API, which reports errors as values).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "apps/image/image.h"

namespace ag::image {

/// The eight bytes every PNG file starts with.
inline constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/// Decodes the PNG file `bytes` (any bit depth, palette, grey or colour, with or without alpha) into an
/// 8-bit RGBA image [h, w, 4]. Throws ImageError naming `name` when it is not a valid PNG or too large.
Image decode_png(std::span<const std::uint8_t> bytes, const std::string& name);

/// Encodes `image` (1 to 4 channels, 8-bit) as a PNG file's bytes.
std::vector<std::uint8_t> encode_png(const Image& image);

/// Returns `image` as a "data:image/png;base64,..." URI, for pages that must load nothing else.
std::string png_data_uri(const Image& image);

/// Returns `bytes` in base64 (RFC 4648, with padding).
std::string base64(std::span<const std::uint8_t> bytes);

}  // namespace ag::image
