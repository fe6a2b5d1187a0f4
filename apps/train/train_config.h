#pragma once
/// The resolved configuration of train_lenet as typed settings, in the nn and models types it selects.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "models/lenet5.h"
#include "nn/data/distortion.h"
#include "nn/loss.h"
#include "nn/schedule.h"

namespace ag::app {

/// data.dataset.
enum class Dataset { mnist, fashion_mnist };
/// train.optimizer.name.
enum class OptimizerKind { sgd, adam, sdlm };
/// output.progress ("auto" = bar on a terminal, lines otherwise).
enum class ProgressMode { automatic, bar, lines };

/// The model.* keys.
struct ModelConfig {
  models::Variant variant = models::Variant::lecun1998;  ///< model.variant
  nn::LossKind loss = nn::LossKind::map;                 ///< model.loss, "auto" resolved
  double map_j = 1.0;                                    ///< model.map_j: the constant j of the MAP loss (eq. 9)
  models::PaperOptions paper;  ///< model.input, model.subsampling, model.subsampling_squash, model.codes (lecun1998)
};

/// The data.* keys.
struct DataConfig {
  Dataset dataset = Dataset::mnist;  ///< data.dataset
  std::string dir = "data/mnist";    ///< data.dir: folder of the four IDX files (raw or .gz)
  std::int64_t train_limit = 0;      ///< data.train_limit: first N training samples, 0 = all
  std::int64_t test_limit = 0;       ///< data.test_limit: first N test samples, 0 = all
  bool distort = false;              ///< data.distortions.enabled
  data::Distortions distortions;     ///< data.distortions.{translate, scale, squeeze, shear}
};

/// The train.optimizer.* keys.
struct OptimizerConfig {
  OptimizerKind name = OptimizerKind::sgd;  ///< train.optimizer.name
  double lr = 0.01;                         ///< train.optimizer.lr: base learning rate
  double momentum = 0.9;                    ///< train.optimizer.momentum (sgd)
  bool nesterov = false;                    ///< train.optimizer.nesterov (sgd)
  double weight_decay = 0.0;                ///< train.optimizer.weight_decay: coupled L2 (sgd and adam)
  double beta1 = 0.9;                       ///< train.optimizer.beta1 (adam)
  double beta2 = 0.999;                     ///< train.optimizer.beta2 (adam)
  double eps = 1e-8;                        ///< train.optimizer.eps (adam)
  double mu = 0.02;                         ///< train.optimizer.mu (sdlm): damping of the step lr / (mu + h)
  std::int64_t hessian_samples = 500;       ///< train.optimizer.hessian_samples (sdlm): samples per estimate
};

/// The train.schedule.* keys.
struct ScheduleConfig {
  nn::ScheduleKind name = nn::ScheduleKind::constant;  ///< train.schedule.name
  int step_size = 5;                                   ///< train.schedule.step_size (step): epochs per decay
  double gamma = 0.1;                                  ///< train.schedule.gamma (step): decay factor
  double min_lr = 0.0;                                 ///< train.schedule.min_lr (cosine): final learning rate
  bool per_batch = false;      ///< train.schedule.per_batch: the rate set at every batch, not once per epoch
  double warmup_epochs = 0.0;  ///< train.schedule.warmup_epochs: a linear warm-up first (set at every batch)
};

/// The train.* keys.
struct TrainSettings {
  int epochs = 20;                 ///< train.epochs
  int batch_size = 32;             ///< train.batch_size
  std::uint64_t seed = 1;          ///< train.seed
  int threads = 1;                 ///< train.threads
  bool anomaly_detection = false;  ///< train.anomaly_detection
  double target_error = 0.01;      ///< train.target_error: summary.json's time_to_target is for this test error
  double input_gradient_penalty = 0.0;  ///< train.input_gradient_penalty: weight of double backprop's penalty
  OptimizerConfig optimizer;       ///< train.optimizer.*
  ScheduleConfig schedule;         ///< train.schedule.*
};

/// The output.* keys.
struct OutputConfig {
  std::string dir = "runs/lenet5";                  ///< output.dir
  int checkpoint_every = 0;                         ///< output.checkpoint_every: epochs, 0 = only at the end
  int checkpoint_every_batches = 0;                 ///< output.checkpoint_every_batches: also mid-epoch, 0 = never
  ProgressMode progress = ProgressMode::automatic;  ///< output.progress
};

/// The whole configuration as typed fields, mirroring the dotted keys (cfg.train.optimizer.lr).
struct TrainConfig {
  ModelConfig model;    ///< model.*
  DataConfig data;      ///< data.*
  TrainSettings train;  ///< train.*
  OutputConfig output;  ///< output.*
};

/// Validates and resolves `config` (a config document, typically load_config's result) into typed fields.
TrainConfig to_train_config(const nlohmann::json& config);

/// Returns the config value spelling of a dataset ("mnist", "fashion-mnist").
std::string_view to_string(Dataset value);
/// Returns the config value spelling of an optimizer ("sgd", "adam", "sdlm").
std::string_view to_string(OptimizerKind value);
/// Returns the config value spelling of a progress mode ("auto", "bar", "lines").
std::string_view to_string(ProgressMode value);

}  // namespace ag::app
