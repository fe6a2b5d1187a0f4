#pragma once
/// The parts of a run that its config describes: the model with its loss and input normalisation, the
/// optimizer, the learning-rate schedule, the data splits, and what a checkpoint of the run holds.
#include <memory>
#include <string_view>
#include <vector>

#include "apps/train/checkpoint.h"
#include "apps/train/train_config.h"
#include "models/lenet5.h"
#include "nn/data/mnist.h"
#include "nn/loss.h"
#include "nn/optim/optimizer.h"
#include "nn/schedule.h"

namespace ag::app {

/// The model, its loss and its input normalisation, as a config describes them.
struct ModelSetup {
  models::Variant variant;               ///< model.variant
  nn::LossKind loss;                     ///< model.loss
  double map_j;                          ///< model.map_j
  data::Normalisation norm;              ///< the input scaling of the variant (and dataset, for modern)
  std::shared_ptr<nn::Sequential> model; ///< the network, [N,1,side,side] -> [N,10]
};

/// Builds the model of `config` (weights drawn from a generator seeded by train.seed).
ModelSetup make_model_setup(const TrainConfig& config);

/// Returns the optimizer that `config` describes, over `parameters`.
std::unique_ptr<nn::Optimizer> make_optimizer(const TrainConfig& config, std::vector<nn::Parameter> parameters);

/// Returns the learning-rate schedule that `config` describes (train.schedule.*, over train.epochs).
nn::Schedule make_schedule(const TrainConfig& config);

/// Loads the train or test split that `config` names (data.dataset, data.dir, limits).
data::Dataset load_split(const TrainConfig& config, std::string_view split);

/// Returns the checkpoint contents of a run: its variant and optimizer names, the model's parameters and, when
/// `optimizer` is given, its state tensors. The tensors are handles: loading a checkpoint writes into them.
CheckpointContents checkpoint_contents(const TrainConfig& config, const ModelSetup& setup,
                                       const nn::Optimizer* optimizer = nullptr);

}  // namespace ag::app
