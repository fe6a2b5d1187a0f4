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

/// deflate's largest compression factor (zlib's FAQ): a gzip file of n bytes never decompresses to more than
/// 1032 n, so a header claiming more is false and is refused before anything is decompressed.
inline constexpr std::uint64_t kMaxDeflateRatio = 1032;

/// What a caller expects of an IDX file; read_idx checks it on the header, before any payload byte is read.
struct IdxExpectation {
  int dims = 1;                          ///< the number of dimensions: 3 for images [N,rows,cols], 1 for labels [N]
  std::vector<std::int64_t> item_shape;  ///< the sizes of dimensions 2.. (e.g. {28, 28}); empty: any sizes
  std::string items = "items";           ///< what an item is called in messages ("images")
};

/// Reads an IDX file of unsigned bytes (element type 0x08) as `expected` describes it; the file may be raw or
/// gzip-compressed (told apart by the gzip magic bytes 1f 8b, not by the name). The file must be a regular
/// one (after following links; a FIFO or a device is refused before a byte is read), and its header is
/// checked as soon as it is read: dimensions, item shape, a claim of at most kMaxIdxPayloadBytes, exactly
/// the file's size for a raw file and at most kMaxDeflateRatio times it for gzip. Throws ag::Error naming the
/// file and the fault: missing, unreadable or special file, wrong magic number, unsupported element type,
/// wrong dimensions, truncated or over-long file, corrupt gzip stream, or a false claim.
IdxArray read_idx(const std::filesystem::path& path, const IdxExpectation& expected);

/// Reads an IDX file with `expected_dims` dimensions of any sizes, as read_idx(path, {expected_dims}).
IdxArray read_idx(const std::filesystem::path& path, int expected_dims);

/// Reads IDX data held in memory, as read_idx reads a file (raw or gzip-compressed, the same checks and
/// messages); `name` stands for the file name in errors. Used by the fuzz target fuzz/fuzz_idx.cpp.
IdxArray read_idx_bytes(std::span<const std::uint8_t> bytes, const std::string& name, int expected_dims);

}  // namespace ag::data
