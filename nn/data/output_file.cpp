// Writing output files atomically, through temporary files of unique names, with the system's reason on failure.
#include "nn/data/output_file.h"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autograd/error.h"

namespace ag::data {
namespace {

// Distinguishes the temporary files of one process; the pid distinguishes processes.
std::atomic<unsigned> temporary_counter{0};

// Writes all of `bytes` to `fd`, retrying short writes and interrupted ones; returns 0 or the errno.
int write_all(int fd, std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

[[noreturn]] void write_failed(const std::filesystem::path& path, std::string_view step, int error) {
  throw Error(fmt::format("cannot write {} ({}): {}", path.string(), step, std::strerror(error)));
}

// Makes the rename durable: a power cut could otherwise undo it (a kill cannot).
void sync_folder(const std::filesystem::path& path) {
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path temporary =
      fmt::format("{}.{}.{}.tmp", path.string(), ::getpid(), temporary_counter.fetch_add(1));
  const std::string step = fmt::format("its temporary file {}", temporary.string());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) write_failed(path, "creating " + step, errno);
  int error = write_all(fd, bytes);
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && ::rename(temporary.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temporary.c_str());
    write_failed(path, "writing " + step, error);
  }
  sync_folder(path);
}

void write_output_file(const std::filesystem::path& path, std::string_view bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return write_file_atomically(path, bytes);
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) write_failed(path, "opening it", errno);
  int error = write_all(fd, bytes);
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) write_failed(path, "writing it", error);
}

bool is_temporary_name(std::string_view name) {
  // name.<digits>.<digits>.tmp
  if (!name.ends_with(".tmp")) return false;
  name.remove_suffix(4);
  for (int part = 0; part < 2; ++part) {
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == name.size()) return false;
    if (name.substr(dot + 1).find_first_not_of("0123456789") != std::string_view::npos) return false;
    name = name.substr(0, dot);
  }
  return !name.empty();
}

}  // namespace ag::data
