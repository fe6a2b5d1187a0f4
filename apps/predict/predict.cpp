#include "apps/predict/predict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "apps/image/image_file.h"
#include "autograd/error.h"

namespace ag::app {

namespace {

std::vector<std::string> art_rows(const std::vector<double>& values, std::int64_t side, double lo, double hi) {
  static constexpr char kRamp[] = " .:-=+*#%@";
  constexpr int kLevels = sizeof kRamp - 2;
  std::vector<std::string> rows;
  for (std::int64_t y = 0; y < side; ++y) {
    std::string row;
    for (std::int64_t x = 0; x < side; ++x) {
      const double t = std::clamp((values[static_cast<std::size_t>(y * side + x)] - lo) / (hi - lo), 0.0, 1.0);
      row += kRamp[std::lround(t * kLevels)];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

std::vector<Prediction> predict_files(TrainedRun& run, const std::vector<std::string>& files) {
  std::vector<Prediction> out(files.size());
  data::Dataset digits;  // the prepared digits, as a dataset so that they take the training path to the model
  digits.rows = digits.cols = kDigitField;
  std::vector<std::int64_t> good;
  for (std::size_t i = 0; i < files.size(); ++i) {
    out[i].file = files[i];
    try {
      out[i].digit = prepare_digit(image::read_image_file(files[i]), files[i]);
    } catch (const image::ImageError& e) {
      out[i].error = e.what();
      continue;
    }
    digits.images.insert(digits.images.end(), out[i].digit.pixels.begin(), out[i].digit.pixels.end());
    digits.labels.push_back(0);
    good.push_back(static_cast<std::int64_t>(i));
  }
  digits.count = static_cast<std::int64_t>(good.size());
  if (good.empty()) return out;
  std::vector<std::int64_t> all(good.size());
  for (std::size_t k = 0; k < all.size(); ++k) all[k] = static_cast<std::int64_t>(k);
  const auto batch = data::make_batch(digits, all, run.setup.norm);
  const auto scores = score_images(*run.setup.model, run.setup.loss, batch.images);
  const std::int64_t side = batch.images.size(3);
  const std::vector<double> inputs = batch.images.to_vector();
  for (std::size_t k = 0; k < good.size(); ++k) {
    Prediction& p = out[static_cast<std::size_t>(good[k])];
    p.scores = scores[k];
    p.side = side;
    const auto first = inputs.begin() + static_cast<std::ptrdiff_t>(k * static_cast<std::size_t>(side * side));
    p.input.assign(first, first + side * side);
  }
  return out;
}

std::string text_art(const std::vector<double>& values, std::int64_t side, double lo, double hi) {
  std::string out;
  for (const auto& row : art_rows(values, side, lo, hi)) out += row + "\n";
  return out;
}

std::string format_prediction(const Prediction& p, nn::LossKind loss, bool show, double lo, double hi) {
  const ClassScores& s = p.scores;
  std::string out = fmt::format("{}: {}  (probability {:.3f}; runner-up {}, {:.3f})\n", p.file, s.predicted,
                                s.probability[static_cast<std::size_t>(s.predicted)], s.runner_up,
                                s.probability[static_cast<std::size_t>(s.runner_up)]);
  std::string classes = "  class       ", probs = "  probability ", raw = fmt::format("  {:<12}", output_kind(loss));
  for (std::size_t c = 0; c < 10; ++c) {
    classes += fmt::format("{:>8}", c);
    probs += fmt::format("{:>8.3f}", s.probability[c]);
    raw += fmt::format("{:>8.2f}", s.output[c]);
  }
  out += classes + "\n" + probs + "\n" + raw + "\n";
  if (show) out += fmt::format("  the network's {0}x{0} input:\n", p.side) + text_art(p.input, p.side, lo, hi);
  return out;
}

nlohmann::json prediction_json(const Prediction& p, nn::LossKind loss, bool show, double lo, double hi) {
  if (!p.error.empty()) return {{"file", p.file}, {"error", p.error}};
  nlohmann::json j = {{"file", p.file},
                      {"predicted", p.scores.predicted},
                      {"runner_up", p.scores.runner_up},
                      {"probabilities", p.scores.probability},
                      {"outputs", p.scores.output},
                      {"output_kind", output_kind(loss)},
                      {"inverted", p.digit.inverted},
                      {"box", {p.digit.box_width, p.digit.box_height}}};
  if (show) j["input"] = art_rows(p.input, p.side, lo, hi);
  return j;
}

}  // namespace ag::app
