#pragma once
/// IDX files (the format of MNIST and Fashion-MNIST): a reader for raw and gzip-compressed files.
#include <cstdint>
#include <filesystem>
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

}  // namespace ag::data
