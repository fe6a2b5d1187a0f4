#pragma once
/// A run's output folder, held by one writer at a time: an exclusive lock (flock on a lock file in the folder)
/// for the life of the run or evaluation that writes there, so that a second writer is refused with a message
/// instead of racing the first for the same files.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ag::app {

/// The name of the lock file in an output folder.
inline constexpr std::string_view kLockFileName = ".lenetgrad.lock";

/// An output folder locked for writing: created when missing, its lock taken for the life of this object (the
/// system releases it when the process ends, however it ends), and temporary files that a killed writer left
/// removed.
class OutputFolder {
 public:
  /// Creates `dir` when missing and takes its lock for `program` (named in the lock file, for the message a
  /// second writer gets). Throws ag::Error naming the folder and the system's reason when it cannot be created
  /// or locked, and naming the other process when one holds the lock.
  OutputFolder(std::filesystem::path dir, std::string_view program);
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  /// Returns the folder's path.
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
};

/// Returns the files of a run that `dir` holds, of checkpoint.bin, metrics.jsonl (when not empty) and
/// summary.json: what a new run there would overwrite.
std::vector<std::string> run_files_in(const std::filesystem::path& dir);

}  // namespace ag::app
