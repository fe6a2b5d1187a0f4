#pragma once
/// IDX files (the format of MNIST and Fashion-MNIST): a reader for raw and gzip-compressed files.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace ag::data {

/// The contents of an IDX file of unsigned bytes: its dimension sizes and its row-major payload.
struct IdxArray {
  std::vector<std::int64_t> dims;  ///< e.g. [count, rows, cols] for images, [count] for labels.
  std::vector<std::uint8_t> data;  ///< product(dims) bytes, row-major.
};

/// The largest payload read_idx accepts, in bytes (4 GiB: far above MNIST's 47 MB and EMNIST's 550 MB).
/// A header claiming more is rejected before anything is allocated.
inline constexpr std::int64_t kMaxIdxPayloadBytes = std::int64_t{1} << 32;

/// Reads an IDX file of unsigned bytes (element type 0x08) that has exactly `expected_dims` dimensions
/// (3 for images [N,rows,cols], 1 for labels [N]); the file may be raw or gzip-compressed (told apart by
/// the gzip magic bytes 1f 8b, not by the name). Throws ag::Error naming the file and the fault: missing
/// or unreadable file, wrong magic number, unsupported element type, wrong dimension count, truncated or
/// over-long file, corrupt gzip stream, or a header claiming more than kMaxIdxPayloadBytes.
IdxArray read_idx(const std::filesystem::path& path, int expected_dims);

/// Reads IDX data held in memory, as read_idx reads a file (raw or gzip-compressed, the same checks and
/// messages); `name` stands for the file name in errors. Used by the fuzz target fuzz/fuzz_idx.cpp.
IdxArray read_idx_bytes(std::span<const std::uint8_t> bytes, const std::string& name, int expected_dims);

}  // namespace ag::data
