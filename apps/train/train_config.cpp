// The resolved configuration as typed settings: model.variant, model.loss and train.schedule.name are parsed by
// the models and nn layers that define them; the app's own choices are spelled here.
#include "apps/train/train_config.h"

#include <fmt/format.h>

#include <utility>

#include "apps/train/config_resolve.h"

namespace ag::app {
namespace {

using nlohmann::json;

constexpr std::pair<std::string_view, Dataset> kDatasets[] = {{"mnist", Dataset::mnist},
                                                              {"fashion-mnist", Dataset::fashion_mnist}};
constexpr std::pair<std::string_view, OptimizerKind> kOptimizers[] = {
    {"sgd", OptimizerKind::sgd}, {"adam", OptimizerKind::adam}, {"sdlm", OptimizerKind::sdlm}};
constexpr std::pair<std::string_view, ProgressMode> kProgress[] = {
    {"auto", ProgressMode::automatic}, {"bar", ProgressMode::bar}, {"lines", ProgressMode::lines}};

template <class Enum, std::size_t N>
Enum from_name(std::string_view path, const std::string& text, const std::pair<std::string_view, Enum> (&names)[N]) {
  for (const auto& [name, value] : names) {
    if (name == text) return value;
  }
  config_fail(fmt::format("{}: unexpected value \"{}\"", path, text));  // unreachable after validation
}

template <class Enum, std::size_t N>
std::string_view name_of(Enum value, const std::pair<std::string_view, Enum> (&names)[N]) {
  for (const auto& [name, candidate] : names) {
    if (candidate == value) return name;
  }
  return "?";
}

}  // namespace

TrainConfig to_train_config(const json& config) {
  const json c = resolve_config(config, "");
  const auto at = [&c](const std::string& path) -> const json& { return c[json::json_pointer("/" + path)]; };
  const auto text = [&at](const std::string& path) -> const std::string& {
    return at(path).get_ref<const std::string&>();
  };
  const auto integer = [&at](const std::string& path) { return static_cast<int>(at(path).get<std::int64_t>()); };
  TrainConfig result;
  result.model.variant = models::parse_variant(text("model/variant"));
  result.model.loss = nn::parse_loss(text("model/loss"));
  result.model.map_j = at("model/map_j").get<double>();
  result.model.paper = {.zero_padded_28 = text("model/input") == "zero_padded_28",
                        .window_average = text("model/subsampling") == "average",
                        .subsampling_squash = text("model/subsampling_squash") == "sigmoid" ? Activation::sigmoid
                                                                                             : Activation::scaled_tanh,
                        .random_codes = text("model/codes") == "random",
                        .init = nn::parse_init(text("model/init"))};
  result.data.dataset = from_name("data/dataset", text("data/dataset"), kDatasets);
  result.data.dir = text("data/dir");
  result.data.train_limit = at("data/train_limit").get<std::int64_t>();
  result.data.test_limit = at("data/test_limit").get<std::int64_t>();
  result.data.distort = at("data/distortions/enabled").get<bool>();
  result.data.distortions = {at("data/distortions/translate").get<double>(), at("data/distortions/scale").get<double>(),
                             at("data/distortions/squeeze").get<double>(), at("data/distortions/shear").get<double>()};
  result.train.epochs = integer("train/epochs");
  result.train.batch_size = integer("train/batch_size");
  result.train.seed = at("train/seed").get<std::uint64_t>();
  result.train.threads = integer("train/threads");
  result.train.anomaly_detection = at("train/anomaly_detection").get<bool>();
  result.train.target_error = at("train/target_error").get<double>();
  result.train.input_gradient_penalty = at("train/input_gradient_penalty").get<double>();
  OptimizerConfig& optimizer = result.train.optimizer;
  optimizer.name = from_name("train/optimizer/name", text("train/optimizer/name"), kOptimizers);
  optimizer.lr = at("train/optimizer/lr").get<double>();
  optimizer.momentum = at("train/optimizer/momentum").get<double>();
  optimizer.nesterov = at("train/optimizer/nesterov").get<bool>();
  optimizer.weight_decay = at("train/optimizer/weight_decay").get<double>();
  optimizer.beta1 = at("train/optimizer/beta1").get<double>();
  optimizer.beta2 = at("train/optimizer/beta2").get<double>();
  optimizer.eps = at("train/optimizer/eps").get<double>();
  optimizer.mu = at("train/optimizer/mu").get<double>();
  optimizer.hessian_samples = at("train/optimizer/hessian_samples").get<std::int64_t>();
  ScheduleConfig& schedule = result.train.schedule;
  schedule.name = nn::parse_schedule(text("train/schedule/name"));
  schedule.step_size = integer("train/schedule/step_size");
  schedule.gamma = at("train/schedule/gamma").get<double>();
  schedule.min_lr = at("train/schedule/min_lr").get<double>();
  schedule.per_batch = at("train/schedule/per_batch").get<bool>();
  schedule.warmup_epochs = at("train/schedule/warmup_epochs").get<double>();
  result.output.dir = text("output/dir");
  result.output.checkpoint_every = integer("output/checkpoint_every");
  result.output.checkpoint_every_batches = integer("output/checkpoint_every_batches");
  result.output.progress = from_name("output/progress", text("output/progress"), kProgress);
  return result;
}

std::string_view to_string(Dataset value) { return name_of(value, kDatasets); }
std::string_view to_string(OptimizerKind value) { return name_of(value, kOptimizers); }
std::string_view to_string(ProgressMode value) { return name_of(value, kProgress); }

}  // namespace ag::app
