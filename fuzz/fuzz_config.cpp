// libFuzzer target: train_lenet's config loader (load_config on arbitrary file bytes, with --set overrides)
// and its command-line parser. Build and run with scripts/fuzz.sh; tests/fuzz_regressions replays the seeds
// and every input kept in fuzz/regressions/config with gcc.
//
// Input: the config file's content, then optionally lines "--set key.path=value" (the first such line ends
// the file's content; each is an override). Every line is also an argv entry for parse_command_line, so a
// plain JSON file is a valid input and the shipped configs are the seeds.
//
// Beyond crashes and sanitizer reports, it aborts on:
//   - any exception other than ag::app::ConfigError (the app would print a raw library message, exit 1);
//   - an empty error message;
//   - a resolved config that does not resolve to itself again.
// (to_train_config, which reads a resolved config into the models and nn types, is not linked here: those
// layers are not built for fuzzing. tests/apps/test_config.cpp checks that every allowed value of its keys
// parses.)
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/train/command_line.h"
#include "apps/train/config_resolve.h"

namespace {

[[noreturn]] void bug(const std::string& what) {
  std::fprintf(stderr, "fuzz_config: %s\n", what.c_str());
  std::abort();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

// The config text as a file that load_config can open: an anonymous in-memory file, no disk.
class MemoryFile {
 public:
  explicit MemoryFile(const std::string& text) : fd_(memfd_create("fuzz_config", 0)) {
    if (fd_ < 0) bug("memfd_create failed");
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n <= 0) bug("write to the memfd failed");
      done += static_cast<std::size_t>(n);
    }
  }
  ~MemoryFile() { ::close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

void check_config(const std::string& document, const std::vector<std::string>& overrides) {
  const MemoryFile file(document);
  nlohmann::json resolved;
  try {
    resolved = ag::app::load_config(file.path(), overrides);
  } catch (const ag::app::ConfigError& e) {
    if (std::string(e.what()).empty()) bug("a ConfigError with an empty message");
    return;
  } catch (const std::exception& e) {
    bug(std::string("load_config threw something other than ConfigError: ") + e.what());
  }
  try {
    if (ag::app::resolve_config(resolved, "resolved") != resolved) bug("a resolved config does not resolve to itself");
  } catch (const std::exception& e) {
    bug(std::string("a config that load_config accepted is then rejected: ") + e.what());
  }
}

void check_command_line(const std::vector<std::string>& words) {
  std::vector<const char*> argv = {"train_lenet"};
  for (const std::string& word : words) argv.push_back(word.c_str());
  try {
    (void)ag::app::parse_command_line(static_cast<int>(argv.size()), argv.data());
  } catch (const ag::app::ConfigError& e) {
    if (std::string(e.what()).empty()) bug("a ConfigError with an empty message");
  } catch (const std::exception& e) {
    bug(std::string("parse_command_line threw something other than ConfigError: ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines = split_lines(text);
  // The config file is the text before the first line starting "--set "; each such line is an override.
  std::string document = text;
  std::vector<std::string> overrides;
  std::size_t offset = 0;
  for (const std::string& line : lines) {
    if (line.rfind("--set ", 0) == 0) {
      if (overrides.empty()) document = text.substr(0, offset);
      overrides.push_back(line.substr(6));
    }
    offset += line.size() + 1;
  }
  check_config(document, overrides);
  if (lines.size() > 32) lines.resize(32);
  check_command_line(lines);
  return 0;
}
