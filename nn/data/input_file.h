#pragma once
/// Opening an input file safely: only a regular file (after following links) of a bounded size is read. A FIFO,
/// a device (/dev/zero, /dev/urandom), a socket or a directory given as an input is refused at once, before a
/// byte is read, instead of blocking the open or feeding bytes without end. Every reader of the apps' inputs
/// (config files, IDX data, checkpoints, metrics) opens its file through this class.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ag::data {

/// Why an input file cannot be read, without the file's name, which the caller's message puts in front:
/// "cannot read the config file: it is a FIFO (named pipe), not a regular file".
class InputFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A regular file open for reading, its size known and bounded; closed on destruction.
class InputFile {
 public:
  /// Opens `path` for reading without blocking (a FIFO would block until a writer came), then refuses a path
  /// that is not a regular file and a file of more than `max_bytes`. `noun` names the file in messages
  /// ("config file": "cannot open the config file: No such file or directory"); `limit` says what the bound
  /// is ("a config file may hold"). Throws InputFileError naming the fault and the system's reason (a symbolic
  /// link to nothing is said to be one, with where it leads).
  InputFile(const std::filesystem::path& path, std::string_view noun, std::uint64_t max_bytes, std::string_view limit);

  /// Returns the file's size in bytes when it was opened.
  std::uint64_t size() const { return size_; }

  /// Returns the open stream, positioned at the start of the file until read; the InputFile keeps owning it.
  std::FILE* stream() const { return stream_.get(); }

  /// Reads the whole file; throws InputFileError on a read error or when the file has grown past the bound
  /// since it was opened.
  std::string read_all();

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> stream_;
  std::uint64_t size_ = 0;
  std::uint64_t max_bytes_ = 0;
  std::string noun_;
};

/// Returns what the path `path` is when it is not a regular file, for messages: "a FIFO (named pipe)",
/// "a character device (/dev/zero, through a symbolic link)", "a directory"; empty for a regular file or a
/// path that cannot be examined.
std::string describe_special_file(const std::filesystem::path& path);

}  // namespace ag::data
