#pragma once
/// Netpbm decoding: PGM (P2 text, P5 binary) and, as the same format with three channels, PPM (P3, P6).
#include <cstdint>
#include <span>
#include <string>

#include "apps/image/image.h"

namespace ag::image {

/// Returns true when `bytes` starts like a PGM or PPM file ("P2", "P3", "P5" or "P6").
bool looks_like_netpbm(std::span<const std::uint8_t> bytes);

/// Decodes a PGM (grey, 1 channel) or PPM (RGB, 3 channels) file of any maxval up to 65535, scaled to 8 bits.
/// Throws ImageError naming `name` for a malformed header, truncated pixels or a too large image.
Image decode_netpbm(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace ag::image
