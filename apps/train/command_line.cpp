// train_lenet's command line: options, their values and the usage text.
#include "apps/train/command_line.h"

#include <fmt/format.h>

#include "apps/train/options.h"

namespace ag::app {

CommandLine parse_command_line(int argc, const char* const argv[]) {
  const std::vector<OptionSpec> specs = {{"--config", "the file name"},  {"--set", "key.path=value", true},
                                         {"--resume", "the run folder"}, {"--overwrite", ""},
                                         {"--print-config", ""},         {"--help", ""}};
  const ParsedArguments parsed = parse_arguments(argc, argv, specs, {0, "settings are given as --set key.path=value"});
  CommandLine result;
  result.config_path = parsed.value("--config");
  result.overrides = parsed.all("--set");
  result.resume_dir = parsed.value("--resume");
  result.overwrite = parsed.has("--overwrite");
  result.print_config = parsed.has("--print-config");
  result.help = parsed.has("--help");
  if (parsed.has("--resume") && result.resume_dir.empty()) config_fail("--resume: the run folder is empty");
  if (result.help) return result;
  if (!parsed.has("--config") && !parsed.has("--resume"))
    config_fail("missing --config FILE (or --resume DIR); see --help");
  if (result.overwrite && !result.resume_dir.empty())
    config_fail(
        "--overwrite and --resume: --resume continues the run in its folder, --overwrite starts a new one over "
        "it; give one of them");
  return result;
}

std::string usage_text(std::string_view program) {
  return fmt::format(
      "usage: {} --config FILE [--set key.path=value ...] [--overwrite] [--print-config]\n"
      "       {} --resume DIR [--config FILE] [--set key.path=value ...]\n"
      "\n"
      "Trains LeNet-5 as configured by FILE (JSON; see docs/config.md for every key).\n"
      "\n"
      "  --config FILE          the config file, e.g. configs/lenet5.json\n"
      "  --resume DIR           continue the run in DIR from its last checkpoint, with DIR/config.json\n"
      "                         unless --config is given (output.dir becomes DIR)\n"
      "  --set key.path=value   override one key (repeatable; later ones win); the value is JSON when it\n"
      "                         parses as JSON, otherwise text: --set train.epochs=3 --set model.variant=modern\n"
      "  --overwrite            start the run even when output.dir holds another run's checkpoint, metrics or\n"
      "                         summary, deleting them (without it, such a folder is refused)\n"
      "  --print-config         print the resolved config (every key) and exit\n"
      "  -h, --help             print this help and exit\n",
      program, program);
}

}  // namespace ag::app
