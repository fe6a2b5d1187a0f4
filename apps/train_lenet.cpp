// train_lenet: trains LeNet-5 from a JSON config. Usage: train_lenet --help.
//
// Exit status: 0 done; 1 a runtime fault (data, checkpoint, output folder, numerical); 2 a usage or config error;
// 3 stopped by SIGINT/SIGTERM after writing a checkpoint, or before training a resumed run (continue with
// --resume DIR); 128 + the signal when stopped before anything was trained. A second SIGINT or SIGTERM ends the
// program at once (status 130 or 143 from the shell), leaving the previous checkpoint intact.
// docs/faults.md describes every fault and what happens.
#include <fmt/format.h>

#include <csignal>
#include <filesystem>

#include "apps/report/run_report.h"
#include "apps/train/config.h"
#include "apps/train/options.h"
#include "apps/train/trainer.h"
#include "autograd/error.h"

namespace {

constexpr int kExitStopped = 3;

// The first signal asks for a stop (after the current batch, or at once before training); the handler then
// resets itself to the default, so that a second signal ends the process at once (async-signal-safe calls only).
extern "C" void on_stop_signal(int signal) {
  ag::app::request_stop(signal);
  std::signal(signal, SIG_DFL);
}

// Installs the stop handlers first of all, so that a stop is honoured in every phase, and unblocks the two
// signals, which a parent may have left blocked (they would then never arrive).
void handle_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &stops, nullptr);
}

// The overrides of a resumed run: output.dir is the folder resumed, and a --set of another one is refused, not
// ignored.
std::vector<std::string> resume_overrides(const ag::app::CommandLine& cli) {
  namespace fs = std::filesystem;
  using ag::app::ConfigError;
  std::error_code ec;
  const fs::file_status status = fs::status(cli.resume_dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw ConfigError(fmt::format("--resume {}: {}", cli.resume_dir, ec.message()));
  if (!fs::exists(status)) throw ConfigError(fmt::format("--resume {}: no such folder", cli.resume_dir));
  if (!fs::is_directory(status))
    throw ConfigError(fmt::format("--resume {}: not a folder (give the run's output.dir)", cli.resume_dir));
  for (const std::string& argument : cli.overrides) {
    const ag::app::Override parsed = ag::app::parse_override(argument);
    if (parsed.key->path != "output.dir") continue;
    const fs::path asked = parsed.value.get<std::string>();
    if (!fs::equivalent(asked, cli.resume_dir, ec))
      throw ConfigError(
          fmt::format("--set output.dir={}: --resume {} continues the run in its own folder; to "
                      "continue it elsewhere, copy the folder there and resume the copy",
                      asked.string(), cli.resume_dir));
  }
  std::vector<std::string> overrides = cli.overrides;
  overrides.push_back("output.dir=" + cli.resume_dir);
  return overrides;
}

// Reports a run stopped before its first batch and returns the exit status: 3 when a resumed run's checkpoint is
// intact (--resume continues), otherwise 128 + the signal, as a shell reports a process ended by it.
int stopped_before_training(const ag::app::TrainResult& result, const ag::app::CommandLine& cli) {
  const std::string by = result.stop_signal == SIGINT    ? "SIGINT"
                         : result.stop_signal == SIGTERM ? "SIGTERM"
                                                         : "a stop request";
  if (!cli.resume_dir.empty()) {
    fmt::print(stderr,
               "train_lenet: stopped by {} while {}, before training; nothing was trained, and {} is as it "
               "was: --resume continues\n",
               by, result.stopped_while, (std::filesystem::path(cli.resume_dir) / "checkpoint.bin").string());
    return kExitStopped;
  }
  fmt::print(stderr,
             "train_lenet: stopped by {} while {}, before training; nothing was trained and no checkpoint "
             "was written\n",
             by, result.stopped_while);
  return result.stop_signal > 0 ? 128 + result.stop_signal : kExitStopped;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ag::app;
  handle_stop_signals();
  return run_app("train_lenet", [&] {
    const CommandLine cli = parse_command_line(argc, argv);
    if (cli.help) {
      fmt::print("{}", usage_text("train_lenet"));
      return 0;
    }
    std::string config_path = cli.config_path;
    // A resumed run reads the config it saved, unless another is given, and writes where it left off.
    if (!cli.resume_dir.empty() && config_path.empty())
      config_path = (std::filesystem::path(cli.resume_dir) / "config.json").string();
    const nlohmann::json resolved =
        load_config(config_path, cli.resume_dir.empty() ? cli.overrides : resume_overrides(cli));
    if (cli.print_config) {
      fmt::print("{}\n", resolved.dump(2));
      return 0;
    }
    const StartMode mode = !cli.resume_dir.empty() ? StartMode::resume
                           : cli.overwrite         ? StartMode::overwrite
                                                   : StartMode::fresh;
    // The report (report.html in output.dir) after each end-of-epoch checkpoint and at the end, even when stopped
    // (but not when nothing was trained), each time while the run holds output.dir's lock.
    const std::filesystem::path out_dir = resolved["output"]["dir"].get<std::string>();
    TrainHooks hooks;
    hooks.after_checkpoint = report_after_checkpoint(out_dir);
    hooks.at_end = [&out_dir](const TrainResult&) { write_run_report(out_dir); };
    const TrainResult result = train(resolved, mode, hooks);
    if (result.trained_nothing) return stopped_before_training(result, cli);
    if (result.stopped_early) return kExitStopped;
    fmt::print("done: {} epochs, test error {:.2f}% ({})\n", result.epochs_completed, 100 * result.test_error,
               resolved["output"]["dir"].get<std::string>());
    return 0;
  });  // a usage or config error: status 2; any other fault: 1
}
