#pragma once
/// A model's output turned into per-class scores for people: probabilities, the predicted class and the
/// runner-up, for single images and for whole datasets.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "nn/data/mnist.h"
#include "nn/loss.h"
#include "nn/module.h"

namespace ag::app {

/// One sample's scores over the ten classes.
struct ClassScores {
  std::array<double, 10> output{};       ///< the model's raw output: RBF distances y_i, or logits
  std::array<double, 10> probability{};  ///< softmax of the logits, or of -y_i for RBF distances
  int predicted = 0;                     ///< the class nn::predict picks (largest probability)
  int runner_up = 0;                     ///< the class of the second largest probability
  /// How far the predicted class is ahead of the runner-up, in logits (or distances): a confidence that,
  /// unlike the probability, does not round to 1 for RBF outputs whose distances differ by tens.
  double margin = 0;
};

/// Returns the scores of one output row of 10 values, read as `loss` defines them (distances or logits).
ClassScores class_scores(nn::LossKind loss, std::span<const double> row);

/// Runs `model` on images [N,1,S,S] without recording a graph; returns N scores.
std::vector<ClassScores> score_images(nn::Module& model, nn::LossKind loss, const Tensor& images);

/// Scores every sample of `data` (normalised by `norm`), in batches of `batch_size`; returns data.count scores.
std::vector<ClassScores> score_dataset(nn::Module& model, nn::LossKind loss, const data::Dataset& data,
                                       const data::Normalisation& norm, std::int64_t batch_size = 1000);

/// Returns the name of what ClassScores::output holds for `loss`: "rbf_distance" or "logit".
const char* output_kind(nn::LossKind loss);

}  // namespace ag::app
