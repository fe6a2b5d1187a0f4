#pragma once
/// The training loop of train_lenet: data, model, optimizer, schedule, metrics, checkpoints, resume.
#include <cstdint>
#include <functional>

#include <nlohmann/json.hpp>

#include "apps/train/run_setup.h"

namespace ag::app {

/// What a finished (or stopped) run reports.
struct TrainResult {
  double test_error = 0;       ///< fraction, after the last epoch run
  double test_loss = 0;        ///< mean test loss per sample, after the last epoch run
  int epochs_completed = 0;    ///< epochs finished, those of a resumed run's checkpoint included
  bool stopped_early = false;  ///< true when a stop was requested (signal) before the last epoch
};

/// Optional observers of a run (tests use them to stop at a chosen batch).
struct TrainHooks {
  /// Called after each training batch with the 1-based epoch and the 0-based batch index.
  std::function<void(int epoch, std::int64_t batch)> after_batch;
  /// Called after each checkpoint is written, with the epochs completed and the batches of the next one done.
  std::function<void(int epochs_done, std::int64_t batches_done)> after_checkpoint;
};

/// Trains by `resolved` (a load_config result) into output.dir. With `resume`, continues from the
/// checkpoint in output.dir: with the same seed and thread count the final weights are bitwise those of an
/// uninterrupted run. Throws ag::Error or ConfigError on bad input.
TrainResult train(const nlohmann::json& resolved, bool resume, const TrainHooks& hooks = {});

/// Asks a running train() to stop after the current batch, write a checkpoint and return (signal-safe).
void request_stop();

}  // namespace ag::app
