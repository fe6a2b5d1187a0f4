#pragma once
// A scratch directory for tests that write files (IDX data, training runs), cleaned up however the test ends.
#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

namespace test {

/// A fresh directory under the system temp folder, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    // The pid keeps parallel test processes apart, the counter the directories of one process.
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("lenetgrad_test_data_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// Returns the directory path / name.
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  /// Returns the directory path.
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace test
