// Locking a run's output folder for one writer, and what a folder holds of a run.
#include "apps/train/output_folder.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/train/file_output.h"
#include "autograd/error.h"

namespace ag::app {
namespace {

[[noreturn]] void folder_fault(const std::filesystem::path& dir, std::string_view what, int error) {
  throw Error(fmt::format("output.dir '{}': {}: {}", dir.string(), what, std::strerror(error)));
}

// What the lock file says of the process holding it ("train_lenet, process 4242"), or "" when it says nothing.
std::string holder_of(int fd) {
  char text[128] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string holder = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : std::string();
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
  return holder.empty() ? holder : " (" + holder + ")";
}

// Removes the temporary files of atomic writes that a killed writer left behind: with the lock held, no other
// process is writing one. The older fixed name (checkpoint.bin.tmp) counts too.
void remove_stale_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (is_temporary_name(name) || name == "checkpoint.bin.tmp") std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace

OutputFolder::OutputFolder(std::filesystem::path dir, std::string_view program) : dir_(std::move(dir)) {
  if (std::error_code ec; !std::filesystem::create_directories(dir_, ec) && ec)
    folder_fault(dir_, "cannot create the folder", ec.value());
  const std::filesystem::path lock = dir_ / kLockFileName;
  // O_NOFOLLOW and O_NONBLOCK: a link or a FIFO put there must neither redirect the lock nor block the open.
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd_ < 0) folder_fault(dir_, fmt::format("cannot open the lock file {}", kLockFileName), errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(fmt::format("output.dir '{}': the lock file {} is not a regular file; remove it", dir_.string(),
                            kLockFileName));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = holder_of(fd_);
    ::close(fd_);
    if (error != EWOULDBLOCK) folder_fault(dir_, "cannot lock the folder", error);
    throw Error(
        fmt::format("output.dir '{}' is in use by another process{}: one run or evaluation writes to a "
                    "folder at a time; wait for it to end, or choose another output.dir",
                    dir_.string(), holder));
  }
  const std::string holder = fmt::format("{}, process {}\n", program, ::getpid());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, holder.data(), holder.size(), 0) < 0) {
    // Naming the holder is a courtesy to a second writer; the lock itself is held.
  }
  remove_stale_temporaries(dir_);
}

OutputFolder::~OutputFolder() { ::close(fd_); }

std::vector<std::string> run_files_in(const std::filesystem::path& dir) {
  std::vector<std::string> found;
  for (const char* name : {"checkpoint.bin", "metrics.jsonl", "summary.json"}) {
    struct stat st {};
    if (::lstat((dir / name).c_str(), &st) != 0) continue;
    if (std::string_view(name) == "metrics.jsonl" && S_ISREG(st.st_mode) && st.st_size == 0) continue;
    found.emplace_back(name);
  }
  return found;
}

}  // namespace ag::app
