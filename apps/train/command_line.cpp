// train_lenet's command line: options, their values and the usage text.
#include "apps/train/command_line.h"

#include <fmt/format.h>

#include <optional>

#include "apps/train/suggest.h"

namespace ag::app {

CommandLine parse_command_line(int argc, const char* const argv[]) {
  CommandLine result;
  bool have_config = false;
  bool have_resume = false;
  const std::vector<std::string> options = {"--config", "--set", "--resume", "--print-config", "--help"};
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    // Split "--option=value" into option and value.
    std::string option = argument;
    std::optional<std::string> value;
    if (argument.starts_with("--") && argument.find('=') != std::string::npos) {
      option = argument.substr(0, argument.find('='));
      value = argument.substr(argument.find('=') + 1);
    }
    const auto take_value = [&](std::string_view what) -> std::string {
      if (value) return *value;
      if (i + 1 >= argc) config_fail(fmt::format("{}: missing {} after it", option, what));
      return argv[++i];
    };
    if (option == "--help" || option == "-h") {
      result.help = true;
    } else if (option == "--print-config") {
      result.print_config = true;
    } else if (option == "--config") {
      std::string path = take_value("the file name");
      if (have_config) {
        config_fail(fmt::format("--config given twice: \"{}\" and \"{}\"", result.config_path, path));
      }
      result.config_path = std::move(path);
      have_config = true;
    } else if (option == "--resume") {
      std::string dir = take_value("the run folder");
      if (have_resume) config_fail(fmt::format("--resume given twice: \"{}\" and \"{}\"", result.resume_dir, dir));
      if (dir.empty()) config_fail("--resume: the run folder is empty");
      result.resume_dir = std::move(dir);
      have_resume = true;
    } else if (option == "--set") {
      result.overrides.push_back(take_value("key.path=value"));
    } else if (option.starts_with("-")) {
      const std::string suggestion = closest_name(option, options);
      config_fail(suggestion.empty()
                      ? fmt::format("unknown option \"{}\"; see --help", option)
                      : fmt::format("unknown option \"{}\"; did you mean {}?", option, suggestion));
    } else {
      config_fail(fmt::format("unexpected argument \"{}\"; settings are given as --set key.path=value", argument));
    }
  }
  if (!have_config && !have_resume && !result.help) config_fail("missing --config FILE (or --resume DIR); see --help");
  return result;
}

std::string usage_text(std::string_view program) {
  return fmt::format(
      "usage: {} --config FILE [--set key.path=value ...] [--print-config]\n"
      "       {} --resume DIR [--config FILE] [--set key.path=value ...]\n"
      "\n"
      "Trains LeNet-5 as configured by FILE (JSON; see docs/config.md for every key).\n"
      "\n"
      "  --config FILE          the config file, e.g. configs/lenet5.json\n"
      "  --resume DIR           continue the run in DIR from its last checkpoint, with DIR/config.json\n"
      "                         unless --config is given (output.dir becomes DIR)\n"
      "  --set key.path=value   override one key (repeatable; later ones win); the value is JSON when it\n"
      "                         parses as JSON, otherwise text: --set train.epochs=3 --set model.variant=modern\n"
      "  --print-config         print the resolved config (every key) and exit\n"
      "  -h, --help             print this help and exit\n",
      program, program);
}

}  // namespace ag::app
