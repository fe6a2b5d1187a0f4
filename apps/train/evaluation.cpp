#include "apps/train/evaluation.h"

#include <fmt/format.h>

#include <numeric>

#include "autograd/graph.h"

namespace ag::app {

double error_rate(std::int64_t wrong, std::int64_t samples) {
  return samples > 0 ? static_cast<double>(wrong) / static_cast<double>(samples) : 0.0;
}

Evaluation evaluate(nn::Module& model, nn::LossKind loss, double map_j, const data::Dataset& data,
                    const data::Normalisation& norm, std::int64_t batch_size) {
  NoGradGuard no_grad;
  Evaluation result;
  std::vector<std::int64_t> indices(static_cast<std::size_t>(data.count));
  std::iota(indices.begin(), indices.end(), 0);
  for (std::int64_t start = 0; start < data.count; start += batch_size) {
    const std::int64_t size = std::min(batch_size, data.count - start);
    const auto batch = data::make_batch(
        data, std::span(indices).subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(size)), norm);
    const Tensor output = model.forward(batch.images);
    result.loss += nn::compute_loss(loss, output, batch.labels, map_j).item() * static_cast<double>(size);
    const Tensor predicted = nn::predict(loss, output);
    const auto* p = predicted.data<std::int64_t>();
    const auto* t = batch.labels.data<std::int64_t>();
    for (std::int64_t i = 0; i < size; ++i) {
      ++result.confusion[static_cast<std::size_t>(t[i])][static_cast<std::size_t>(p[i])];
    }
  }
  result.samples = data.count;
  std::int64_t correct = 0;
  for (std::size_t c = 0; c < 10; ++c) correct += result.confusion[c][c];
  if (data.count > 0) {
    result.loss /= static_cast<double>(data.count);
    result.error = error_rate(data.count - correct, data.count);
  }
  return result;
}

std::string confusion_table(const Evaluation& evaluation) {
  std::string out = "true\\pred";
  for (int p = 0; p < 10; ++p) out += fmt::format("{:>6}", p);
  out += "\n";
  for (std::size_t t = 0; t < 10; ++t) {
    out += fmt::format("{:>9}", t);
    for (std::size_t p = 0; p < 10; ++p) out += fmt::format("{:>6}", evaluation.confusion[t][p]);
    out += "\n";
  }
  return out;
}

nlohmann::json to_json(const Evaluation& evaluation) {
  return {{"samples", evaluation.samples}, {"loss", evaluation.loss}, {"error", evaluation.error},
          {"confusion", evaluation.confusion}};
}

}  // namespace ag::app
