// evaluate_lenet: loads a training run's checkpoint and prints its test error and confusion matrix.
// Usage: evaluate_lenet --run DIR [--json FILE] [--set key.path=value ...]
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "apps/report/report.h"
#include "apps/train/checkpoint.h"
#include "apps/train/config.h"
#include "apps/train/evaluation.h"
#include "apps/train/run_setup.h"

namespace {

constexpr const char* kUsage =
    "usage: evaluate_lenet --run DIR [--json FILE] [--report FILE] [--set key.path=value ...]\n"
    "  Loads DIR/config.json and DIR/checkpoint.bin, evaluates the test set that the config names, and\n"
    "  prints the test error and the confusion matrix (rows: true class, columns: predicted).\n"
    "  --json FILE  also writes {samples, loss, error, confusion} as JSON to FILE\n"
    "  --report FILE  also writes the run's report page (HTML, docs/report.md) to FILE\n"
    "  --set        overrides a config key (e.g. data.test_limit=1000)\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace ag::app;
  std::string run_dir, json_path, report_path;
  std::vector<std::string> overrides;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    } else if (arg == "--run" && has_value) {
      run_dir = argv[++i];
    } else if (arg == "--json" && has_value) {
      json_path = argv[++i];
    } else if (arg == "--report" && has_value) {
      report_path = argv[++i];
    } else if (arg == "--set" && has_value) {
      overrides.emplace_back(argv[++i]);
    } else {
      fmt::print(stderr, "evaluate_lenet: unexpected argument '{}'\n{}", arg, kUsage);
      return 2;
    }
  }
  if (run_dir.empty()) {
    fmt::print(stderr, "evaluate_lenet: --run DIR is required\n{}", kUsage);
    return 2;
  }
  try {
    const std::filesystem::path dir = run_dir;
    const TrainConfig config = to_train_config(load_config((dir / "config.json").string(), overrides));
    const ModelSetup setup = make_model_setup(config);
    CheckpointContents contents = checkpoint_contents(config, setup);  // the parameters; no optimizer state
    load_checkpoint(dir / "checkpoint.bin", contents);
    const ag::data::Dataset test = load_split(config, "test");
    const Evaluation result = evaluate(*setup.model, setup.loss, setup.map_j, test, setup.norm);
    fmt::print("checkpoint: {} (epoch {})\ntest samples: {}\ntest loss: {:.4f}\ntest error: {:.2f}% ({} of {})\n\n{}",
               (dir / "checkpoint.bin").string(), contents.epoch, result.samples, result.loss, 100 * result.error,
               static_cast<std::int64_t>(result.error * static_cast<double>(result.samples) + 0.5), result.samples,
               confusion_table(result));
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << to_json(result).dump(2) << "\n";
      if (!out) throw std::runtime_error("cannot write " + json_path);
    }
    if (!report_path.empty()) write_report(dir, report_path, ReportOptions{overrides, nullptr});
    return 0;
  } catch (const ConfigError& e) {
    fmt::print(stderr, "evaluate_lenet: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "evaluate_lenet: {}\n", e.what());
    return 1;
  }
}
