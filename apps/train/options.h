#pragma once
/// The command-line options of the apps (train_lenet, evaluate_lenet, predict_lenet, model_summary): one parser,
/// so that every app refuses an unknown, repeated or dangling option the same way, as a usage error (exit status 2).
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "apps/train/config_error.h"

namespace ag::app {

/// One option an app accepts.
struct OptionSpec {
  std::string name;         ///< "--run"
  std::string value;        ///< what its value is, for messages ("the run folder"); empty for a flag
  bool repeatable = false;  ///< may be given more than once (--set); otherwise a second one is an error
};

/// The parsed arguments: each option's values in order (a flag's value is empty) and the positional arguments.
struct ParsedArguments {
  std::map<std::string, std::vector<std::string>, std::less<>> values;
  std::vector<std::string> positional;

  /// Returns true when option `name` was given.
  bool has(std::string_view name) const { return values.find(name) != values.end(); }
  /// Returns the value of option `name` (given at most once), or "" when it was not given.
  std::string value(std::string_view name) const;
  /// Returns every value of option `name`, in order (empty when it was not given).
  std::vector<std::string> all(std::string_view name) const;
};

/// How an app's positional arguments are taken.
struct Positionals {
  std::size_t max = 0;  ///< how many are allowed
  std::string hint;     ///< said after an unexpected one: "settings are given as --set key.path=value"
};

/// Parses argv[1..argc) against `specs`: "--name value" or "--name=value", and "-h" for "--help" when specs have
/// it. Throws ConfigError for an unknown option (naming the closest one), a value missing after an option (at the
/// end, or followed by another option), a value given to a flag, an option given twice that is not repeatable
/// (naming both values), or more positional arguments than allowed.
ParsedArguments parse_arguments(int argc, const char* const argv[], const std::vector<OptionSpec>& specs,
                                const Positionals& positionals = {});

/// Runs the body of an app's main() and returns the app's exit status: the body's own; 2 after a ConfigError (a
/// usage or config error); 1 after any other exception. An exception's message goes to stderr as
/// "<program>: <message>".
int run_app(std::string_view program, const std::function<int()>& body);

}  // namespace ag::app
