#pragma once
// Runs a program the way a user would, through /bin/sh, and returns its exit status and both output streams
// (for tests that drive the apps and scripts end to end).
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace test {

/// What a finished command left.
struct CommandResult {
  int status = -1;  ///< the exit status (or -1 when it did not exit normally)
  std::string out;  ///< standard output
  std::string err;  ///< standard error
};

/// Returns `arg` quoted for /bin/sh.
inline std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (const char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Runs `args` (program first, each argument quoted) and returns its status and outputs.
inline CommandResult run_command(const std::vector<std::string>& args) {
  TempDir scratch;
  std::string command;
  for (const auto& a : args) command += shell_quote(a) + " ";
  command += "</dev/null >" + shell_quote((scratch / "out").string()) + " 2>" + shell_quote((scratch / "err").string());
  const int raw = std::system(command.c_str());
  CommandResult r;
  r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  const auto slurp = [](const std::filesystem::path& p) {
    std::ostringstream s;
    s << std::ifstream(p).rdbuf();
    return s.str();
  };
  r.out = slurp(scratch / "out");
  r.err = slurp(scratch / "err");
  return r;
}

}  // namespace test
