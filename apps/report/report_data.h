#pragma once
/// Everything the report page shows, gathered from a run folder: its files, and what its checkpoint's model
/// does on the test set (confusion, mistakes, kernels, activations). The page is a function of this alone.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "apps/image/image.h"
#include "apps/inspect/activations.h"
#include "apps/inspect/scores.h"
#include "apps/report/run_files.h"

namespace ag::app {

struct TrainedRun;

/// A misclassified test digit.
struct Mistake {
  std::int64_t index = 0;            ///< position in the test split
  int label = 0;                     ///< the true class
  ClassScores scores;                ///< predicted, runner-up, probabilities
  std::vector<std::uint8_t> pixels;  ///< the digit [rows, cols], 0 background, 255 ink
};

/// One test digit followed through the network.
struct DigitTrace {
  std::int64_t index = 0;
  int label = 0;
  int predicted = 0;
  std::vector<std::uint8_t> pixels;     ///< [rows, cols]
  std::vector<LayerActivation> layers;  ///< layer_activations() of the digit
};

/// What the checkpoint's model does on the test set.
struct ModelFindings {
  std::string variant;                                        ///< "lecun1998" or "modern"
  std::int64_t epoch = 0;                                     ///< epochs completed at the checkpoint
  std::int64_t batches_done = 0;                              ///< of the next epoch (a stop mid-epoch)
  std::int64_t test_samples = 0;
  std::int64_t image_rows = 28, image_cols = 28;              ///< the dataset's digit size
  std::array<std::array<std::int64_t, 10>, 10> confusion{};  ///< [true][predicted]
  std::vector<Mistake> mistakes;                              ///< every misclassified test digit, in test order
  std::string kernel_name;                                    ///< the first convolution's weight, e.g. "c1.weight"
  std::vector<std::int64_t> kernel_shape;                     ///< [out, in, k, k]
  std::vector<double> kernels;
  std::vector<double> codes;                                  ///< the RBF centres [10,84] (lecun1998; else empty)
  std::vector<DigitTrace> traces;                             ///< the first test digit of each class present
};

/// The report's inputs.
struct ReportData {
  std::string run_dir;
  RunFiles files;
  std::optional<ModelFindings> model;        ///< absent while there is no checkpoint
  bool distortions_enabled = false;          ///< the config turns data distortions on
  std::vector<image::Image> distorted;       ///< distorted training samples to show (when enabled)
  std::string generated_at;                  ///< UTC time the page was made
};

/// How a report is made.
struct ReportOptions {
  std::vector<std::string> overrides;  ///< "key.path=value" applied to DIR/config.json (e.g. data.dir)
  /// Returns distorted training samples to show; called only when the config enables distortions. When null, the
  /// report draws the run's first 24 training images, each under a map drawn as training draws them.
  std::function<std::vector<image::Image>(const TrainedRun& run)> distortion_samples;
};

/// Returns true when the resolved config turns training-data distortions on: data.distortions is true,
/// or an object whose "enabled" is true (data.distortions.enabled).
bool distortions_enabled(const nlohmann::json& config);

/// Reads the run folder `dir` and, when it has a checkpoint, evaluates the model on the test set the config
/// names. Throws ag::Error or ConfigError naming the file for what cannot be read.
ReportData gather_report(const std::filesystem::path& dir, const ReportOptions& options = {});

}  // namespace ag::app
