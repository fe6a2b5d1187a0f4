#pragma once
/// One training step's forward and backward pass, with the objective train_lenet minimises.
#include <span>

#include "apps/train/run_setup.h"
#include "autograd/tensor.h"
#include "nn/data/mnist.h"
#include "nn/optim/optimizer.h"

namespace ag::app {

/// Where a batch sits in a run: its epoch (1-based) and the position of its first sample in that epoch's order.
struct BatchPlace {
  int epoch = 1;
  std::int64_t start = 0;
};

/// Returns true when the learning rate is set at every batch: train.schedule.per_batch, or a warm-up.
bool rate_per_batch(const TrainConfig& config);

/// Returns the learning rate of batch `batch` (0-based) of `epoch` (1-based), of `batches` in an epoch: on a rate
/// set at every batch, `schedule` at the middle of the batch; otherwise at the epoch's start.
double batch_learning_rate(const TrainConfig& config, const nn::Schedule& schedule, int epoch, std::int64_t batch,
                           std::int64_t batches);

/// Returns the seed of the training images' distortions for `config` (apart from initialisation and shuffling).
std::uint64_t distortion_seed(const TrainConfig& config);

/// Returns the training samples `indices` of `train_set` as a batch, images [B,1,S,S] scaled by `norm`: with
/// data.distortions enabled, each image distorted by the map of its place in the run (train.seed, the epoch and
/// its position), so that a resumed run and any thread count see the same images.
data::Batch training_batch(const TrainConfig& config, const data::Dataset& train_set, const data::Normalisation& norm,
                           BatchPlace place, std::span<const std::int64_t> indices);

/// What one batch's forward and backward give.
struct BatchStep {
  Tensor output;       ///< the model's output [N,10] (logits, or RBF distances), still in the graph
  double loss = 0;     ///< the batch's mean loss E
  double penalty = 0;  ///< double back-propagation's penalty P (0 when it is off)
};

/// Runs `setup`'s model on `samples` ([N,1,side,side] images, [N] labels) and back-propagates the objective into
/// the parameters' gradients (zeroed first, through `optimizer`): the loss E, plus `penalty_weight` P with
/// P = (1/N) sum_n |dE_n/dx_n|^2 (train.input_gradient_penalty; off at 0). Back-propagates nothing when E or P is
/// not finite: the caller stops the run.
BatchStep forward_backward(const ModelSetup& setup, nn::Optimizer& optimizer, const data::Batch& samples,
                           double penalty_weight);

}  // namespace ag::app
