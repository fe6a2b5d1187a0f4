#pragma once
/// The training loop of train_lenet: data, model, optimizer, schedule, metrics, checkpoints, resume.
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/train/run_setup.h"

namespace ag::app {

/// How train() starts in output.dir.
enum class StartMode {
  fresh,      ///< a new run; an output.dir holding another run's checkpoint, metrics or summary is refused
  overwrite,  ///< a new run that deletes the checkpoint, metrics and summary output.dir holds (--overwrite)
  resume,     ///< continues from the checkpoint in output.dir (--resume)
};

/// What a finished (or stopped) run reports.
struct TrainResult {
  double test_error = 0;         ///< fraction, after the last epoch run
  double test_loss = 0;          ///< mean test loss per sample, after the last epoch run
  int epochs_completed = 0;      ///< epochs finished, those of a resumed run's checkpoint included
  bool stopped_early = false;    ///< true when a stop was requested (signal) before the last epoch
  bool trained_nothing = false;  ///< stopped before the first batch: nothing trained, no checkpoint written
  std::string stopped_while;     ///< what a run stopped before training was doing: "loading the data"
  int stop_signal = 0;           ///< the signal that asked for the stop (0 when request_stop() named none)
};

/// Optional observers of a run (tests use them to stop at a chosen batch).
struct TrainHooks {
  /// Called after each training batch with the 1-based epoch and the 0-based batch index.
  std::function<void(int epoch, std::int64_t batch)> after_batch;
  /// Called after each checkpoint is written, with the epochs completed and the batches of the next one done.
  std::function<void(int epochs_done, std::int64_t batches_done)> after_checkpoint;
  /// Called after each step of setting a run up, with what it did ("loading the training data").
  std::function<void(const std::string& step)> after_setup_step;
  /// Called when a run ends after training (finished, or stopped with a checkpoint written), with what it reports,
  /// before train() returns: output.dir is still locked, so that what it writes there has no other writer.
  std::function<void(const TrainResult& result)> at_end;
};

/// Trains by `resolved` (a load_config result) into output.dir, which it locks against other writers for the
/// run's life. With StartMode::resume, continues from the checkpoint in output.dir: with the same seed and
/// thread count the final weights are bitwise those of an uninterrupted run. A stop requested before the first
/// batch returns at once, trained_nothing set. Throws ag::Error or ConfigError on bad input.
TrainResult train(const nlohmann::json& resolved, StartMode mode, const TrainHooks& hooks = {});

/// As train(resolved, StartMode::resume or StartMode::fresh, hooks).
TrainResult train(const nlohmann::json& resolved, bool resume, const TrainHooks& hooks = {});

/// Asks a running train() to stop after the current batch, write a checkpoint and return, or to return at once
/// when it has not started training; `signal` is the signal that asked, if any (async-signal-safe).
void request_stop(int signal = 0);

}  // namespace ag::app
