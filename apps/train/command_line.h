#pragma once
/// The command line of train_lenet.
#include <string>
#include <string_view>
#include <vector>

#include "apps/train/config_error.h"

namespace ag::app {

/// The parsed command line of train_lenet.
struct CommandLine {
  std::string config_path;             ///< --config FILE (may be empty with --resume)
  std::vector<std::string> overrides;  ///< each --set key.path=value, in order
  std::string resume_dir;              ///< --resume DIR: continue the run in DIR (empty when not resuming)
  bool print_config = false;           ///< --print-config: print the resolved config and exit
  bool help = false;                   ///< --help / -h
};

/// Parses `train_lenet (--config FILE | --resume DIR) [--set key.path=value ...] [--print-config] [--help]`;
/// throws ConfigError for an unknown option (naming the closest one), a missing value, a repeated --config or
/// --resume, a stray argument, or neither --config nor --resume.
CommandLine parse_command_line(int argc, const char* const argv[]);

/// Returns the usage text of train_lenet, naming `program` as the executable.
std::string usage_text(std::string_view program);

}  // namespace ag::app
