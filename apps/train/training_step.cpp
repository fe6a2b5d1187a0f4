// One training step: its batch (distorted when asked), its forward and backward: the loss, and double
// back-propagation's penalty when it is on.
#include "apps/train/training_step.h"

#include <cmath>
#include <numeric>
#include <vector>

#include "autograd/backward.h"
#include "autograd/ops/arithmetic.h"
#include "nn/input_gradient_penalty.h"

namespace ag::app {
namespace {

/// The seed of the training images' distortions, apart from those of initialisation and shuffling.
constexpr std::uint64_t kDistortionStream = 0x5851f42d4c957f2dull;

}  // namespace

bool rate_per_batch(const TrainConfig& config) {
  return config.train.schedule.per_batch || config.train.schedule.warmup_epochs > 0;
}

double batch_learning_rate(const TrainConfig& config, const nn::Schedule& schedule, int epoch, std::int64_t batch,
                           std::int64_t batches) {
  if (!rate_per_batch(config)) return schedule.lr_at(epoch - 1);
  return schedule.lr_at(epoch - 1 + (static_cast<double>(batch) + 0.5) / static_cast<double>(batches));
}

std::uint64_t distortion_seed(const TrainConfig& config) { return config.train.seed ^ kDistortionStream; }

data::Batch training_batch(const TrainConfig& config, const data::Dataset& train_set, const data::Normalisation& norm,
                           BatchPlace place, std::span<const std::int64_t> indices) {
  if (!config.data.distort) return data::make_batch(train_set, indices, norm);
  const auto first_key = static_cast<std::uint64_t>((place.epoch - 1) * train_set.count + place.start);
  const data::Dataset distorted = data::distorted_samples(train_set, indices, config.data.distortions,
                                                          distortion_seed(config), first_key);
  std::vector<std::int64_t> in_order(indices.size());
  std::iota(in_order.begin(), in_order.end(), std::int64_t{0});
  return data::make_batch(distorted, in_order, norm);
}

// With the penalty, the images become a leaf that requires a gradient, dE/dx is computed with create_graph, and
// the objective's backward runs through that gradient's graph too: P's gradient with respect to the weights is a
// second derivative.
BatchStep forward_backward(const ModelSetup& setup, nn::Optimizer& optimizer, const data::Batch& samples,
                           double weight) {
  const Tensor images = weight > 0 ? samples.images.detach().requires_grad_(true) : samples.images;
  BatchStep step;
  step.output = setup.model->forward(images);
  const Tensor loss = nn::compute_loss(setup.loss, step.output, samples.labels, setup.map_j);
  step.loss = loss.item();
  Tensor objective = loss;
  if (weight > 0 && std::isfinite(step.loss)) {
    const Tensor penalty = nn::input_gradient_penalty(loss, images);
    step.penalty = penalty.item();
    objective = add(loss, mul(penalty, weight));
  }
  if (std::isfinite(step.loss) && std::isfinite(step.penalty)) {
    optimizer.zero_grad();
    objective.backward();
  }
  return step;
}

}  // namespace ag::app
