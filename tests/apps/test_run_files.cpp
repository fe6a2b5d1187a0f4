// The files of a run: atomic writes with unique temporary names and the system's reason on failure, the output
// folder's lock, and what a folder holds of a run.
#include <doctest/doctest.h>

#include <apps/train/file_output.h>
#include <apps/train/output_folder.h>
#include <autograd/error.h>

#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "support/temp_dir.h"

using test::TempDir;

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t entries_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("write_file_atomically replaces the file and leaves no temporary file behind") {
  TempDir dir;
  ag::app::write_file_atomically(dir / "a.json", "first");
  ag::app::write_file_atomically(dir / "a.json", "second");
  CHECK(read_text(dir / "a.json") == "second");
  CHECK(entries_in(dir.path()) == 1);
}

TEST_CASE("a write that fails names the file, the step and the system's reason") {
  TempDir dir;
  const std::string target = (dir / "missing" / "x.json").string();
  try {
    ag::app::write_file_atomically(target, "x");
    FAIL("no error");
  } catch (const ag::Error& e) {
    const std::string message = e.what();
    CHECK(message.starts_with("cannot write " + target + " (creating its temporary file " + target + "."));
    CHECK(message.ends_with(".tmp): No such file or directory"));
  }
  // A device is written directly (a rename would replace it); /dev/full says why it cannot be.
  CHECK_THROWS_WITH_AS(ag::app::write_output_file("/dev/full", "x"),
                       "cannot write /dev/full (writing it): No space left on device", ag::Error);
  ag::app::write_output_file(dir / "out.json", "{}");
  CHECK(read_text(dir / "out.json") == "{}");
}

TEST_CASE("temporary names are told apart from the files they stand for") {
  CHECK(ag::app::is_temporary_name("checkpoint.bin.4242.0.tmp"));
  CHECK(ag::app::is_temporary_name("metrics.jsonl.1.17.tmp"));
  CHECK_FALSE(ag::app::is_temporary_name("checkpoint.bin"));
  CHECK_FALSE(ag::app::is_temporary_name("checkpoint.bin.tmp"));
  CHECK_FALSE(ag::app::is_temporary_name("notes.4242.x.tmp"));
  CHECK_FALSE(ag::app::is_temporary_name(".1.2.tmp"));
}

TEST_CASE("an output folder has one writer at a time") {
  TempDir dir;
  const std::filesystem::path run = dir / "run";
  {
    const ag::app::OutputFolder first(run, "test_run_files");
    CHECK(std::filesystem::is_directory(run));
    // Another open of the lock file is another holder, as another process would be.
    const std::string holder = "(test_run_files, process " + std::to_string(::getpid()) + ")";
    CHECK_THROWS_WITH_AS(ag::app::OutputFolder(run, "second"),
                         ("output.dir '" + run.string() + "' is in use by another process " + holder +
                          ": one run or evaluation writes to a folder at a time; wait for it to end, or choose "
                          "another output.dir")
                             .c_str(),
                         ag::Error);
  }
  CHECK_NOTHROW(ag::app::OutputFolder(run, "third"));  // released with the first
}

TEST_CASE("taking an output folder removes the temporary files a killed writer left") {
  TempDir dir;
  std::ofstream(dir / "checkpoint.bin.77.0.tmp") << "half";
  std::ofstream(dir / "checkpoint.bin.tmp") << "half";
  std::ofstream(dir / "notes.txt") << "kept";
  const ag::app::OutputFolder folder(dir.path(), "test");
  CHECK_FALSE(std::filesystem::exists(dir / "checkpoint.bin.77.0.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir / "checkpoint.bin.tmp"));
  CHECK(std::filesystem::exists(dir / "notes.txt"));
}

TEST_CASE("a lock file that is not a regular file is refused, not followed or waited on") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / ".lenetgrad.lock").c_str(), 0644) == 0);
  CHECK_THROWS_WITH_AS(
      ag::app::OutputFolder(dir.path(), "test"),
      ("output.dir '" + dir.path().string() + "': the lock file .lenetgrad.lock is not a regular file; remove it")
          .c_str(),
      ag::Error);
}

TEST_CASE("run_files_in lists what a new run would overwrite") {
  TempDir dir;
  CHECK(ag::app::run_files_in(dir.path()).empty());
  std::ofstream(dir / "metrics.jsonl").close();  // empty: a run killed before its first epoch ended
  std::ofstream(dir / "config.json") << "{}";
  CHECK(ag::app::run_files_in(dir.path()).empty());
  std::ofstream(dir / "metrics.jsonl") << "{\"epoch\": 1}\n";
  std::ofstream(dir / "checkpoint.bin") << "x";
  CHECK(ag::app::run_files_in(dir.path()) == std::vector<std::string>{"checkpoint.bin", "metrics.jsonl"});
}
