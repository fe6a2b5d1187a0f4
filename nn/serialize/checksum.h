#pragma once
/// The checksum of lenetgrad's binary files (state files, the apps' checkpoints): FNV-1a, 64 bits.
#include <cstdint>
#include <string_view>

namespace ag::nn {

/// Returns the FNV-1a 64-bit hash of `bytes`: enough to tell a damaged or truncated file from the one written
/// (it is no defence against a forger, and need not be: every field read after it is bounded anyway).
constexpr std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace ag::nn
