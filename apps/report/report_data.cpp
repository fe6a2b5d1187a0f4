#include "apps/report/report_data.h"

#include <fmt/chrono.h>

#include <chrono>
#include <ctime>
#include <numeric>

#include "apps/inspect/trained_run.h"
#include "apps/report/pictures.h"
#include "apps/train/training_step.h"
#include "nn/data/distortion.h"

namespace ag::app {

namespace {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(now));
}

std::vector<std::uint8_t> image_bytes(const data::Dataset& set, std::int64_t index) {
  const std::int64_t size = set.rows * set.cols;
  const auto first = set.images.begin() + index * size;
  return {first, first + size};
}

/// Follows the first test digit of each class through the network.
std::vector<DigitTrace> trace_digits(const TrainedRun& run, const data::Dataset& test, const std::vector<ClassScores>& scores) {
  std::vector<DigitTrace> traces;
  for (int digit = 0; digit < 10; ++digit) {
    for (std::int64_t i = 0; i < test.count; ++i) {
      if (test.labels[static_cast<std::size_t>(i)] != digit) continue;
      const std::int64_t index[] = {i};
      const auto batch = data::make_batch(test, index, run.setup.norm);
      traces.push_back({i, digit, scores[static_cast<std::size_t>(i)].predicted, image_bytes(test, i),
                        layer_activations(*run.setup.model, batch.images)});
      break;
    }
  }
  return traces;
}

/// Returns the first training images of `run`'s data, image b distorted by the map of position b of the first
/// epoch (drawn as training draws them, from the run's seed), as pictures for the report's grid.
std::vector<image::Image> distorted_training_samples(const TrainedRun& run) {
  constexpr std::int64_t kShown = 24;
  const data::Dataset train = data::load_mnist_split(run.config.data.dir, "train", kShown);
  std::vector<std::int64_t> indices(static_cast<std::size_t>(train.count));
  std::iota(indices.begin(), indices.end(), std::int64_t{0});
  const data::Dataset distorted =
      data::distorted_samples(train, indices, run.config.data.distortions, distortion_seed(run.config), 0);
  std::vector<image::Image> pictures;
  for (std::int64_t i = 0; i < distorted.count; ++i)
    pictures.push_back(digit_image(image_bytes(distorted, i), distorted.cols, distorted.rows));
  return pictures;
}

ModelFindings examine_model(const TrainedRun& run) {
  ModelFindings f;
  f.variant = models::variant_name(run.setup.variant);
  f.epoch = run.epoch;
  f.batches_done = run.batches_done;
  const data::Dataset test = load_split(run.config, "test");
  f.test_samples = test.count;
  f.image_rows = test.rows;
  f.image_cols = test.cols;
  const auto scores = score_dataset(*run.setup.model, run.setup.loss, test, run.setup.norm);
  for (std::int64_t i = 0; i < test.count; ++i) {
    const ClassScores& s = scores[static_cast<std::size_t>(i)];
    const int label = test.labels[static_cast<std::size_t>(i)];
    ++f.confusion[static_cast<std::size_t>(label)][static_cast<std::size_t>(s.predicted)];
    if (s.predicted != label) f.mistakes.push_back({i, label, s, image_bytes(test, i)});
  }
  for (const auto& p : run.setup.model->parameters()) {
    if (p.value.dim() != 4) continue;  // the first convolution's weights [out, in, k, k]
    f.kernel_name = p.name;
    f.kernel_shape.assign(p.value.shape().begin(), p.value.shape().end());
    f.kernels = p.value.to_vector();
    break;
  }
  for (const auto& [name, buffer] : run.setup.model->buffers())
    if (name == "output.centres") f.codes = buffer.to_vector();
  f.traces = trace_digits(run, test, scores);
  return f;
}

}  // namespace

bool distortions_enabled(const nlohmann::json& config) {
  if (!config.contains("data") || !config["data"].is_object()) return false;
  const auto& data = config["data"];
  const auto it = data.find("distortions");
  if (it == data.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return it->is_object() && it->value("enabled", false);
}

ReportData gather_report(const std::filesystem::path& dir, const ReportOptions& options) {
  ReportData r;
  r.run_dir = dir.string();
  r.generated_at = utc_now();
  r.files = read_run_files(dir);
  r.distortions_enabled = distortions_enabled(r.files.config);
  if (!r.files.has_checkpoint) return r;
  const TrainedRun run = load_trained_run(dir, options.overrides);
  r.model = examine_model(run);
  if (r.distortions_enabled)
    r.distorted = options.distortion_samples ? options.distortion_samples(run) : distorted_training_samples(run);
  return r;
}

}  // namespace ag::app
