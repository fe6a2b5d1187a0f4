#include "apps/train/curvature_estimate.h"

#include <algorithm>

#include "nn/optim/hessian_estimate.h"
#include "nn/optim/sdlm.h"

namespace ag::app {
namespace {

/// The generator of the curvature samples: a stream apart from initialisation, shuffling and distortions, one
/// per epoch (the epoch times an odd constant, so that neighbouring epochs' seeds differ in many bits).
constexpr std::uint64_t kCurvatureStream = 0xd1b54a32d192ed03ull;
constexpr std::uint64_t kEpochSpread = 0xbf58476d1ce4e5b9ull;

}  // namespace

std::vector<std::int64_t> curvature_samples(const TrainConfig& config, std::int64_t train_samples, int epoch) {
  Generator gen(config.train.seed ^ (kCurvatureStream + static_cast<std::uint64_t>(epoch) * kEpochSpread));
  std::vector<std::int64_t> order = data::shuffled_indices(train_samples, gen);
  order.resize(static_cast<std::size_t>(std::min(train_samples, config.train.optimizer.hessian_samples)));
  return order;
}

void estimate_curvature(const TrainConfig& config, const ModelSetup& setup, const data::Dataset& train_set,
                        nn::Optimizer& optimizer, int epoch) {
  auto* sdlm = dynamic_cast<nn::Sdlm*>(&optimizer);
  if (sdlm == nullptr) return;
  const std::vector<std::int64_t> samples = curvature_samples(config, train_set.count, epoch);
  const auto loss_of = [&](std::int64_t s) {
    const data::Batch one = data::make_batch(train_set, {&samples[static_cast<std::size_t>(s)], 1}, setup.norm);
    return nn::compute_loss(setup.loss, setup.model->forward(one.images), one.labels, setup.map_j);
  };
  sdlm->set_hessian(nn::mean_curvature(optimizer.parameters(), static_cast<std::int64_t>(samples.size()), loss_of));
}

}  // namespace ag::app
