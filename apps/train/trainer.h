#pragma once
/// The training loop of train_lenet: data, model, optimizer, schedule, metrics, checkpoints, resume.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "apps/train/config.h"
#include "models/lenet5.h"
#include "nn/data/mnist.h"
#include "nn/loss.h"
#include "nn/optim/optimizer.h"

namespace ag::app {

/// What a finished (or stopped) run reports.
struct TrainResult {
  double test_error = 0;   ///< fraction, after the last epoch run
  double test_loss = 0;
  int epochs_completed = 0;
  bool stopped_early = false;  ///< true when a stop was requested (signal) before the last epoch
};

/// The model, its loss and its input normalisation, as a config describes them.
struct ModelSetup {
  models::Variant variant;
  nn::LossKind loss;
  double map_j;
  data::Normalisation norm;
  std::shared_ptr<nn::Sequential> model;
};

/// Builds the model of `config` (weights drawn from a generator seeded by train.seed).
ModelSetup make_model_setup(const TrainConfig& config);

/// Returns the optimizer that `config` describes, over `parameters`.
std::unique_ptr<nn::Optimizer> make_optimizer(const TrainConfig& config, std::vector<nn::Parameter> parameters);

/// Loads the train or test split that `config` names (data.dataset, data.dir, limits).
data::Dataset load_split(const TrainConfig& config, std::string_view split);

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
