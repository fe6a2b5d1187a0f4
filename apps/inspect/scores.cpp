#include "apps/inspect/scores.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/error.h"
#include "autograd/graph.h"

namespace ag::app {

namespace {

bool is_distance(nn::LossKind loss) { return loss != nn::LossKind::cross_entropy; }

}  // namespace

ClassScores class_scores(nn::LossKind loss, std::span<const double> row) {
  if (row.size() != 10) fail("class_scores", "expected 10 outputs, got {}", row.size());
  ClassScores s;
  std::copy(row.begin(), row.end(), s.output.begin());
  // Larger is better after the sign flip; a distance's posterior under MAP is softmax(-y) (without the
  // rubbish class, so that the ten probabilities sum to one).
  std::array<double, 10> logit{};
  for (std::size_t i = 0; i < 10; ++i) logit[i] = is_distance(loss) ? -row[i] : row[i];
  const double top = *std::max_element(logit.begin(), logit.end());
  double sum = 0;
  for (std::size_t i = 0; i < 10; ++i) sum += s.probability[i] = std::exp(logit[i] - top);
  for (double& p : s.probability) p /= sum;
  // The first of equal values wins, as in nn::predict.
  s.predicted = static_cast<int>(std::max_element(logit.begin(), logit.end()) - logit.begin());
  s.runner_up = s.predicted == 0 ? 1 : 0;
  for (int i = 0; i < 10; ++i)
    if (i != s.predicted && logit[static_cast<std::size_t>(i)] > logit[static_cast<std::size_t>(s.runner_up)]) s.runner_up = i;
  s.margin = logit[static_cast<std::size_t>(s.predicted)] - logit[static_cast<std::size_t>(s.runner_up)];
  return s;
}

std::vector<ClassScores> score_images(nn::Module& model, nn::LossKind loss, const Tensor& images) {
  NoGradGuard no_grad;
  const Tensor output = model.forward(images);
  if (output.dim() != 2 || output.size(1) != 10)
    fail("score_images", "the model's output has shape {}; expected [N,10]", shape_str(output.shape()));
  const std::vector<double> values = output.to_vector();
  std::vector<ClassScores> scores;
  scores.reserve(static_cast<std::size_t>(output.size(0)));
  for (std::size_t n = 0; n < static_cast<std::size_t>(output.size(0)); ++n)
    scores.push_back(class_scores(loss, std::span(values).subspan(10 * n, 10)));
  return scores;
}

std::vector<ClassScores> score_dataset(nn::Module& model, nn::LossKind loss, const data::Dataset& data,
                                       const data::Normalisation& norm, std::int64_t batch_size) {
  std::vector<std::int64_t> indices(static_cast<std::size_t>(data.count));
  std::iota(indices.begin(), indices.end(), 0);
  std::vector<ClassScores> scores;
  scores.reserve(indices.size());
  for (std::int64_t start = 0; start < data.count; start += batch_size) {
    const auto size = static_cast<std::size_t>(std::min(batch_size, data.count - start));
    const auto batch = data::make_batch(data, std::span(indices).subspan(static_cast<std::size_t>(start), size), norm);
    const auto part = score_images(model, loss, batch.images);
    scores.insert(scores.end(), part.begin(), part.end());
  }
  return scores;
}

const char* output_kind(nn::LossKind loss) { return is_distance(loss) ? "rbf_distance" : "logit"; }

}  // namespace ag::app
