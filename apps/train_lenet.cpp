// train_lenet: trains LeNet-5 from a JSON config. Usage: train_lenet --help.
//
// Exit status: 0 done; 1 a runtime fault (data, checkpoint, numerical); 2 a usage or config error;
// 3 stopped by SIGINT/SIGTERM after writing a checkpoint (continue with --resume DIR). A second SIGINT or
// SIGTERM ends the program at once (status 130 or 143 from the shell), leaving the previous checkpoint intact.
// docs/faults.md describes every fault and what happens.
#include <fmt/format.h>

#include <csignal>
#include <filesystem>

#include "apps/report/run_report.h"
#include "apps/train/config.h"
#include "apps/train/trainer.h"
#include "autograd/error.h"

namespace {

constexpr int kExitFault = 1;
constexpr int kExitUsage = 2;
constexpr int kExitStopped = 3;

// The first signal asks for a stop after the current batch; the handler then resets itself to the default,
// so that a second signal ends the process at once (only async-signal-safe calls here).
extern "C" void on_stop_signal(int signal) {
  ag::app::request_stop();
  std::signal(signal, SIG_DFL);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ag::app;
  try {
    const CommandLine cli = parse_command_line(argc, argv);
    if (cli.help) {
      fmt::print("{}", usage_text("train_lenet"));
      return 0;
    }
    std::vector<std::string> overrides = cli.overrides;
    std::string config_path = cli.config_path;
    if (!cli.resume_dir.empty()) {
      std::error_code ec;
      if (!std::filesystem::exists(cli.resume_dir, ec))
        throw ConfigError(fmt::format("--resume {}: no such folder", cli.resume_dir));
      if (!std::filesystem::is_directory(cli.resume_dir, ec))
        throw ConfigError(fmt::format("--resume {}: not a folder (give the run's output.dir)", cli.resume_dir));
      // A resumed run reads the config it saved, unless another is given, and writes where it left off.
      if (config_path.empty()) config_path = (std::filesystem::path(cli.resume_dir) / "config.json").string();
      overrides.push_back("output.dir=" + cli.resume_dir);
    }
    const nlohmann::json resolved = load_config(config_path, overrides);
    if (cli.print_config) {
      fmt::print("{}\n", resolved.dump(2));
      return 0;
    }
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    // The report (report.html in output.dir) after each end-of-epoch checkpoint and at the end, even when stopped.
    const std::filesystem::path out_dir = resolved["output"]["dir"].get<std::string>();
    TrainHooks hooks;
    hooks.after_checkpoint = report_after_checkpoint(out_dir);
    const TrainResult result = train(resolved, !cli.resume_dir.empty(), hooks);
    write_run_report(out_dir);
    if (result.stopped_early) return kExitStopped;
    fmt::print("done: {} epochs, test error {:.2f}% ({})\n", result.epochs_completed, 100 * result.test_error,
               resolved["output"]["dir"].get<std::string>());
    return 0;
  } catch (const ConfigError& e) {
    fmt::print(stderr, "train_lenet: {}\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "train_lenet: {}\n", e.what());
    return kExitFault;
  }
}
