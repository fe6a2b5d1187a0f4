#pragma once
/// SDLM's curvature estimate in a run: before each epoch, the mean Gauss-Newton diagonal over a few hundred
/// training samples drawn from the run's seed (LeCun et al. 1998, Appendix C: 500 samples, then kept for the pass).
#include <cstdint>
#include <vector>

#include "apps/train/run_setup.h"
#include "nn/data/mnist.h"
#include "nn/optim/optimizer.h"

namespace ag::app {

/// Returns the indices [min(hessian_samples, train_samples)] into the training set whose curvature SDLM averages
/// before epoch `epoch` (1-based): the first train.optimizer.hessian_samples of an order of the `train_samples`
/// drawn from train.seed and the epoch (so without repeats). The same for any thread count and on resume.
std::vector<std::int64_t> curvature_samples(const TrainConfig& config, std::int64_t train_samples, int epoch);

/// Before epoch `epoch` (1-based), when `optimizer` is nn::Sdlm: sets its h (each parameter's shape) to the mean
/// over curvature_samples of the Gauss-Newton diagonal of each sample's loss (model.loss on one undistorted [1,1,S,S]
/// image at a time, without the input-gradient penalty). Does nothing for another optimizer.
void estimate_curvature(const TrainConfig& config, const ModelSetup& setup, const data::Dataset& train_set,
                        nn::Optimizer& optimizer, int epoch);

}  // namespace ag::app
