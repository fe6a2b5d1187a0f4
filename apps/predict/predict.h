#pragma once
/// Classifying picture files with a trained run's model, and writing the results for people and for scripts.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/inspect/scores.h"
#include "apps/inspect/trained_run.h"
#include "apps/predict/prepare.h"

namespace ag::app {

/// What became of one picture file.
struct Prediction {
  std::string file;
  std::string error;          ///< why the file could not be classified; empty when it was
  PreparedDigit digit;        ///< the 28x28 MNIST-style digit made from it
  ClassScores scores;         ///< the model's verdict
  std::int64_t side = 0;      ///< the side S of the network's input (32 for lecun1998, 28 for modern)
  std::vector<double> input;  ///< the input [S, S] the network was fed (normalised, padded)
};

/// Reads, prepares and classifies each of `files` with `run`'s model, in order. A file that cannot be read or
/// holds no digit gets its error (naming it) and the others still run.
std::vector<Prediction> predict_files(TrainedRun& run, const std::vector<std::string>& files);

/// Returns `values` [side, side] as text art, one line per row: `lo` (paper) as ' ', `hi` (ink) as '@'.
std::string text_art(const std::vector<double>& values, std::int64_t side, double lo, double hi);

/// Returns a prediction for people: the verdict line, each class's probability and raw output and, with
/// `show`, the network's input as text art (its values from `lo`, paper, to `hi`, ink).
std::string format_prediction(const Prediction& p, nn::LossKind loss, bool show, double lo, double hi);

/// Returns a prediction as JSON: file, predicted, runner_up, probabilities, outputs, output_kind, inverted
/// and box (and with `show` the input as text-art rows), or {file, error}.
nlohmann::json prediction_json(const Prediction& p, nn::LossKind loss, bool show, double lo, double hi);

}  // namespace ag::app
