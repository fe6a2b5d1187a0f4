// Opening an input file safely: without blocking, a regular file only, of a bounded size.
#include "nn/data/input_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ag::data {
namespace {

// The kind of a file that is not a regular one, from its mode.
std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// "a character device", with where a symbolic link leads: "(/dev/zero, through a symbolic link)".
std::string described(const std::filesystem::path& path, mode_t mode) {
  std::string text(kind_of(mode));
  struct stat link {};
  if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::canonical(path, ec);
    text += ec ? " (through a symbolic link)" : fmt::format(" ({}, through a symbolic link)", target.string());
  }
  return text;
}

}  // namespace

std::string describe_special_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return {};
  return described(path, st.st_mode);
}

InputFile::InputFile(const std::filesystem::path& path, std::string_view noun, std::uint64_t max_bytes,
                     std::string_view limit)
    : max_bytes_(max_bytes), noun_(noun) {
  // A NUL would end the name early for the system: another file would be read than the one named.
  if (path.native().find('\0') != std::string::npos)
    throw InputFileError(fmt::format("cannot open the {}: its name holds a NUL character", noun));
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer, for ever; O_NOCTTY: a terminal given by mistake
  // must not become the controlling one.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    const std::string special = describe_special_file(path);  // a socket cannot be opened: say what it is
    if (!special.empty())
      throw InputFileError(fmt::format("cannot read the {}: it is {}, not a regular file", noun, special));
    // A link to nothing is not a missing file: say where it leads.
    struct stat link {};
    if (error == ENOENT && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
      std::error_code ec;
      throw InputFileError(fmt::format("cannot open the {}: it is a symbolic link to {}, which does not exist", noun,
                                       std::filesystem::read_symlink(path, ec).string()));
    }
    throw InputFileError(fmt::format("cannot open the {}: {}", noun, std::strerror(error)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw InputFileError(fmt::format("cannot read the {}: {}", noun, std::strerror(error)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputFileError(
        fmt::format("cannot read the {}: it is {}, not a regular file", noun, described(path, st.st_mode)));
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (size_ > max_bytes) {
    ::close(fd);
    throw InputFileError(
        fmt::format("cannot read the {}: it holds {} bytes, more than the {} that {}", noun, size_, max_bytes, limit));
  }
  // A regular file never blocks; reads go back to blocking mode so that stdio sees no EAGAIN.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  stream_.reset(::fdopen(fd, "rb"));
  if (!stream_) {
    const int error = errno;
    ::close(fd);
    throw InputFileError(fmt::format("cannot read the {}: {}", noun, std::strerror(error)));
  }
}

std::string InputFile::read_all() {
  std::string text;
  text.reserve(static_cast<std::size_t>(size_));
  char buffer[1 << 16];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, stream_.get())) > 0) {
    text.append(buffer, count);
    if (text.size() > max_bytes_)
      throw InputFileError(
          fmt::format("cannot read the {}: it grew past {} bytes while being read", noun_, max_bytes_));
  }
  if (std::ferror(stream_.get()))
    throw InputFileError(fmt::format("cannot read the {}: {}", noun_, std::strerror(errno)));
  return text;
}

}  // namespace ag::data
