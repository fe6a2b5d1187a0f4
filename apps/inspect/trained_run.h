#pragma once
/// A finished or checkpointed training run loaded back from its folder: the config it ran with and the
/// model with the checkpoint's weights, ready to evaluate or to classify new images.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/train/config.h"
#include "apps/train/run_setup.h"

namespace ag::app {

/// A run's config and its model at the checkpoint.
struct TrainedRun {
  nlohmann::json resolved;        ///< DIR/config.json, overrides applied
  TrainConfig config;             ///< the same, typed
  ModelSetup setup;               ///< the model (with the checkpoint's weights), its loss and input normalisation
  std::int64_t epoch = 0;         ///< epochs completed at the checkpoint
  std::int64_t batches_done = 0;  ///< batches of the next epoch done (non-zero after a stop mid-epoch)
};

/// Loads DIR/config.json (with `overrides`, "key.path=value") and the weights in DIR/checkpoint.bin.
/// Throws ConfigError for a bad config and ag::Error naming the file for a missing or damaged checkpoint.
TrainedRun load_trained_run(const std::filesystem::path& dir, const std::vector<std::string>& overrides = {});

}  // namespace ag::app
