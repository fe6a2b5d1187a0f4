#pragma once
/// Evaluating a model on a dataset: mean loss, error rate and confusion matrix.
#include <array>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "nn/data/mnist.h"
#include "nn/loss.h"
#include "nn/module.h"

namespace ag::app {

/// What evaluating a model on a dataset measured.
struct Evaluation {
  double loss = 0;           ///< mean loss per sample
  double error = 0;          ///< fraction misclassified (0.0095 for 0.95 %)
  std::int64_t samples = 0;  ///< samples evaluated
  std::array<std::array<std::int64_t, 10>, 10> confusion{};  ///< [true class][predicted class]
};

/// Returns wrong / samples (0 for no samples), from the count of wrong answers: 100 wrong of 10,000 is then the
/// double nearest 0.01, as a target of 0.01 is, where 1 - 9,900 / 10,000 is 0.010000000000000009 and misses it.
double error_rate(std::int64_t wrong, std::int64_t samples);

/// Runs `model` over all of `data` in batches of `batch_size` without recording a graph.
Evaluation evaluate(nn::Module& model, nn::LossKind loss, double map_j, const data::Dataset& data,
                    const data::Normalisation& norm, std::int64_t batch_size = 1000);

/// Returns the confusion matrix as a printable table (rows: true class, columns: predicted).
std::string confusion_table(const Evaluation& evaluation);

/// Returns {"samples", "loss", "error", "confusion": [[...]]} for JSON output.
nlohmann::json to_json(const Evaluation& evaluation);

}  // namespace ag::app
