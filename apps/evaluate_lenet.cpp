// evaluate_lenet: loads a training run's checkpoint and prints its test error and confusion matrix.
// Usage: evaluate_lenet --run DIR [--json FILE] [--report FILE] [--set key.path=value ...]
//
// Exit status: 0 evaluated; 1 a runtime fault (data, checkpoint, output file); 2 a usage or config error.
#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "apps/inspect/trained_run.h"
#include "apps/report/report.h"
#include "apps/train/config.h"
#include "apps/train/evaluation.h"
#include "apps/train/file_output.h"
#include "apps/train/options.h"
#include "apps/train/output_folder.h"

namespace {

constexpr const char* kUsage =
    "usage: evaluate_lenet --run DIR [--json FILE] [--report FILE] [--set key.path=value ...]\n"
    "  Loads DIR/config.json and DIR/checkpoint.bin, evaluates the test set that the config names, and\n"
    "  prints the test error and the confusion matrix (rows: true class, columns: predicted).\n"
    "  --json FILE  also writes {samples, loss, error, confusion} as JSON to FILE\n"
    "  --report FILE  also writes the run's report page (HTML, docs/report.md) to FILE\n"
    "  --set        overrides a config key (e.g. data.test_limit=1000)\n";

// True when the file `output` is to be written inside `run_dir`: the run's folder is then locked meanwhile.
bool writes_into(const std::filesystem::path& run_dir, const std::filesystem::path& output) {
  std::error_code ec;
  const std::filesystem::path parent = output.has_parent_path() ? output.parent_path() : ".";
  return std::filesystem::equivalent(parent, run_dir, ec);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ag::app;
  return run_app("evaluate_lenet", [&] {
    const ParsedArguments args = parse_arguments(argc, argv,
                                                 {{"--run", "the run folder"},
                                                  {"--json", "the file name"},
                                                  {"--report", "the file name"},
                                                  {"--set", "key.path=value", true},
                                                  {"--help", ""}});
    if (args.has("--help")) {
      fmt::print("{}", kUsage);
      return 0;
    }
    if (args.value("--run").empty()) throw ConfigError(std::string("--run DIR is required\n") + kUsage);
    const std::filesystem::path dir = args.value("--run"), json_path = args.value("--json"),
                                report_path = args.value("--report");
    std::optional<OutputFolder> lock;  // held while this evaluation writes into the run's folder
    if ((args.has("--json") && writes_into(dir, json_path)) || (args.has("--report") && writes_into(dir, report_path)))
      lock.emplace(dir, "evaluate_lenet");
    const TrainedRun run = load_trained_run(dir, args.all("--set"));
    const ag::data::Dataset test = load_split(run.config, "test");
    const ModelSetup& setup = run.setup;
    const Evaluation result = evaluate(*setup.model, setup.loss, setup.map_j, test, setup.norm);
    fmt::print("checkpoint: {} (epoch {})\ntest samples: {}\ntest loss: {:.4f}\ntest error: {:.2f}% ({} of {})\n\n{}",
               (dir / "checkpoint.bin").string(), run.epoch, result.samples, result.loss, 100 * result.error,
               static_cast<std::int64_t>(result.error * static_cast<double>(result.samples) + 0.5), result.samples,
               confusion_table(result));
    if (args.has("--json")) write_output_file(json_path, to_json(result).dump(2) + "\n");
    if (args.has("--report")) write_report(dir, report_path, ReportOptions{args.all("--set"), nullptr});
    return 0;
  });
}
