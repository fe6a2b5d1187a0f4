// Building a run's model, optimizer, schedule, data and checkpoint contents from its typed config.
#include "apps/train/run_setup.h"

#include <optional>

#include "nn/optim/adam.h"
#include "nn/optim/sdlm.h"
#include "nn/optim/sgd.h"

namespace ag::app {

ModelSetup make_model_setup(const TrainConfig& config) {
  ModelSetup setup{config.model.variant, config.model.loss, config.model.map_j, data::Normalisation::paper(),
                   nullptr};
  if (setup.variant == models::Variant::modern) {
    setup.norm = data::Normalisation::modern(config.data.dataset == Dataset::fashion_mnist ? data::kFashionMnistStats
                                                                                           : data::kMnistStats);
  }
  if (setup.variant == models::Variant::lecun1998) setup.norm.size = models::input_side(config.model.paper);
  Generator init(config.train.seed);
  setup.model = models::make_model(setup.variant, init, DType::f32, config.model.paper);
  return setup;
}

std::unique_ptr<nn::Optimizer> make_optimizer(const TrainConfig& config, std::vector<nn::Parameter> parameters) {
  const OptimizerConfig& o = config.train.optimizer;
  if (o.name == OptimizerKind::adam) {
    return std::make_unique<nn::Adam>(std::move(parameters),
                                      nn::AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay});
  }
  if (o.name == OptimizerKind::sdlm)
    return std::make_unique<nn::Sdlm>(std::move(parameters), nn::SdlmOptions{o.lr, o.mu, o.weight_decay});
  return std::make_unique<nn::Sgd>(std::move(parameters), nn::SgdOptions{o.lr, o.momentum, o.nesterov, o.weight_decay});
}

nn::Schedule make_schedule(const TrainConfig& config) {
  nn::Schedule schedule;
  schedule.kind = config.train.schedule.name;
  schedule.base_lr = config.train.optimizer.lr;
  schedule.step_size = config.train.schedule.step_size;
  schedule.gamma = config.train.schedule.gamma;
  schedule.min_lr = config.train.schedule.min_lr;
  schedule.total_epochs = config.train.epochs;
  schedule.warmup_epochs = config.train.schedule.warmup_epochs;
  return schedule;
}

data::Dataset load_split(const TrainConfig& config, std::string_view split) {
  const std::int64_t limit = split == "train" ? config.data.train_limit : config.data.test_limit;
  data::Dataset set =
      data::load_mnist_split(config.data.dir, split, limit > 0 ? std::optional<std::int64_t>(limit) : std::nullopt);
  if (set.count == 0) {
    fail("load_split", "'{}': the {} split holds no samples; training and evaluation need at least one",
         config.data.dir, split);
  }
  return set;
}

CheckpointContents checkpoint_contents(const TrainConfig& config, const ModelSetup& setup,
                                       const nn::Optimizer* optimizer) {
  CheckpointContents contents;
  contents.variant = models::variant_name(setup.variant);
  contents.optimizer = to_string(config.train.optimizer.name);
  contents.model_options = models::paper_options_text(config.model.paper);
  for (const nn::Parameter& p : setup.model->parameters()) contents.tensors.emplace_back(p.name, p.value);
  if (optimizer != nullptr) {
    for (auto& entry : optimizer->state()) contents.tensors.push_back(entry);
  }
  return contents;
}

}  // namespace ag::app
