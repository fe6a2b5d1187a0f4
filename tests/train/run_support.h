#pragma once
/// Helpers for tests that run train_lenet's loop: a small config for a folder of test data, and the weights and
/// optimizer state a run's checkpoint holds.
#include <apps/train/checkpoint.h>
#include <apps/train/config.h>
#include <apps/train/run_setup.h>
#include <apps/train/trainer.h>

#include <string>
#include <utility>
#include <vector>

#include "support/temp_dir.h"

namespace test {

/// Returns the resolved config of a run on the data in `dir` (batches of 16, Adam, seed 7) into dir/run, with
/// `extra` merged over it (for example {"train": {"input_gradient_penalty": 0.1}}).
inline nlohmann::json config_for(const TempDir& dir, const std::string& variant, int epochs,
                                 const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json doc = {
      {"model", {{"variant", variant}}},
      {"data", {{"dir", dir.path().string()}}},
      {"train", {{"epochs", epochs}, {"batch_size", 16}, {"seed", 7}}},
      {"output", {{"dir", (dir / "run").string()}, {"progress", "lines"}}},
  };
  doc["train"]["optimizer"] = {{"name", "adam"}, {"lr", 0.003}};
  doc.merge_patch(extra);
  return ag::app::resolve_config(doc, "test config");
}

/// Returns every tensor of the checkpoint in dir/run (parameters, then optimizer state) as values.
inline std::vector<std::vector<double>> final_weights(const TempDir& dir, const nlohmann::json& resolved) {
  const auto config = ag::app::to_train_config(resolved);
  auto setup = ag::app::make_model_setup(config);
  auto optimizer = ag::app::make_optimizer(config, setup.model->parameters());
  ag::app::CheckpointContents contents;
  contents.variant = ag::models::variant_name(setup.variant);
  contents.optimizer = ag::app::to_string(config.train.optimizer.name);
  for (const auto& p : setup.model->parameters()) contents.tensors.emplace_back(p.name, p.value);
  for (auto& s : optimizer->state()) contents.tensors.push_back(s);
  ag::app::load_checkpoint(dir / "run" / "checkpoint.bin", contents);
  std::vector<std::vector<double>> out;
  for (const auto& [name, t] : contents.tensors) out.push_back(t.to_vector());
  return out;
}

/// Trains `resolved` from scratch until a stop requested after batch `batch` (0-based) of epoch `epoch` (1-based),
/// then resumes it to the end; returns what each of the two runs reported.
inline std::pair<ag::app::TrainResult, ag::app::TrainResult> train_interrupted(const nlohmann::json& resolved, int epoch,
                                                                               std::int64_t batch) {
  ag::app::TrainHooks stop_at;
  stop_at.after_batch = [epoch, batch](int e, std::int64_t b) {
    if (e == epoch && b == batch) ag::app::request_stop();
  };
  const ag::app::TrainResult first = ag::app::train(resolved, false, stop_at);
  return {first, ag::app::train(resolved, true)};
}

}  // namespace test
