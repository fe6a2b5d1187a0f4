#pragma once
/// State files: named float32/float64 tensors and an opaque metadata string in one versioned, checksummed binary
/// file (docs/state_format.md), written atomically and read with every length checked against the file's size,
/// so that a damaged or crafted file is refused with a message, never misread. save_state and load_state
/// (nn/serialize/module_state.h) build on it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "nn/module.h"

namespace ag::nn {

/// What a state file holds: named tensors, in order, and bytes the caller may add (the library never reads them).
struct StateFile {
  std::vector<NamedTensor> tensors;
  std::string metadata;
};

/// The format version written and the only one read.
inline constexpr std::uint32_t kStateFileVersion = 1;
/// The longest entry name a state file may hold, in bytes.
inline constexpr std::uint32_t kMaxStateNameBytes = 4096;
/// The most dimensions an entry may have.
inline constexpr std::uint8_t kMaxStateRank = 8;

/// Returns the bytes of `file` in the state-file format; throws ag::Error naming `op` for an entry that is not a
/// float32 or float64 tensor, an empty, overlong or repeated name, or a rank above kMaxStateRank.
std::string encode_state_file(const StateFile& file, std::string_view op = "encode_state_file");

/// Returns the tensors (new, each [its stored shape]) and metadata held in `bytes`, verified in this order: the
/// magic, the checksum (before any other field is interpreted), the version, then every count, length and shape
/// against the bytes left (no overflow) and no bytes after the last entry. Throws ag::Error "<op>: <where>:
/// <fault>", where `where` names the file.
StateFile decode_state_file(std::string_view bytes, std::string_view op, std::string_view where);

/// Writes `file` to `path` atomically (a temporary file beside it, flushed, renamed over it): a crash leaves the
/// old file or the new one. Throws ag::Error "<op>: ..." naming the file and the fault.
void write_state_file(const std::filesystem::path& path, const StateFile& file,
                      std::string_view op = "write_state_file");

/// Reads the state file at `path`, which must be a regular file (a FIFO or a device is refused unread) of at most
/// `max_bytes`, then decodes it as decode_state_file does. Throws ag::Error "<op>: <path>: <fault>".
StateFile read_state_file(const std::filesystem::path& path, std::uint64_t max_bytes,
                          std::string_view op = "read_state_file");

}  // namespace ag::nn
