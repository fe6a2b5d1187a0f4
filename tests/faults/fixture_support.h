#pragma once
// What the parts of fault_fixture share: bytes, files (regular and special), and the entry point of each part.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fixture {

namespace fs = std::filesystem;
using Bytes = std::string;  // raw bytes

/// Returns the bytes of the file at `path`; throws when it cannot be read.
Bytes read_all(const fs::path& path);

/// Writes `bytes` to `path` (parents created), or, when `bytes` is one of these markers, makes instead:
///   "<dir>"           a directory
///   "<fifo>"          a FIFO (named pipe) that nothing writes to
///   "<link:TARGET>"   a symbolic link to TARGET
///   "<sparse:N>"      a sparse file of N bytes (zeros, taking no disk space)
void write_all(const fs::path& path, const Bytes& bytes);

/// Returns the FNV-1a 64-bit hash of `data`: the checkpoint checksum of docs/checkpoint.md.
std::uint64_t fnv1a(const Bytes& data);

/// Writes ROOT/<case>/: a good 40-sample dataset with one file replaced, removed or made special.
void make_bad_data(const fs::path& root);

/// Writes ROOT/<case>/: RUN's config.json beside a damaged (or crafted) checkpoint.bin.
void make_bad_checkpoints(const fs::path& run, const fs::path& root);

/// Writes ROOT/<file>: pictures for predict_lenet, good.pgm (a digit) and others each wrong in one way.
void make_bad_images(const fs::path& root);

/// Writes ROOT/<case>/: RUN's files with metrics.jsonl or summary.json replaced by a file that is not a regular one;
/// and ROOT/report_fifo/, an output folder whose report.html is a FIFO.
void make_bad_run_files(const fs::path& run, const fs::path& root);

/// Returns true when the checkpoints at a and b hold the same tensor bytes under the same header.
bool same_weights(const fs::path& a, const fs::path& b);

}  // namespace fixture
