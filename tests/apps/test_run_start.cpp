// How a run starts: in a folder that holds another run (refused, or overwritten on purpose), stopped before its
// first batch, and resumed from a checkpoint whose contents or sample order do not fit.
#include <doctest/doctest.h>

#include <apps/train/checkpoint.h>
#include <apps/train/config.h>
#include <apps/train/resume.h>
#include <apps/train/trainer.h>
#include <autograd/error.h>

#include <cmath>
#include <limits>

#include "support/idx_writer.h"
#include "support/temp_dir.h"

using test::TempDir;

namespace {

nlohmann::json config_for(const TempDir& dir, int epochs) {
  const nlohmann::json doc = {
      {"data", {{"dir", dir.path().string()}}},
      {"train", {{"epochs", epochs}, {"batch_size", 16}, {"seed", 7}, {"optimizer", {{"name", "sgd"}}}}},
      {"output", {{"dir", (dir / "run").string()}, {"progress", "lines"}}},
  };
  return ag::app::resolve_config(doc, "test config");
}

// The checkpoint contents of the run `resolved` describes: every tensor (handles that keep their storage), values
// as initialised.
ag::app::CheckpointContents contents_of(const nlohmann::json& resolved) {
  const auto config = ag::app::to_train_config(resolved);
  const ag::app::ModelSetup setup = ag::app::make_model_setup(config);
  const auto optimizer = ag::app::make_optimizer(config, setup.model->parameters());
  return ag::app::checkpoint_contents(config, setup, optimizer.get());
}

}  // namespace

TEST_CASE("a new run refuses a folder holding another run, unless told to overwrite it") {
  TempDir dir;
  test::write_learnable_mnist(dir.path(), 32, 1);
  const auto config = config_for(dir, 1);
  ag::app::train(config, ag::app::StartMode::fresh);
  const std::string run = (dir / "run").string();
  CHECK_THROWS_WITH_AS(ag::app::train(config, ag::app::StartMode::fresh),
                       ("output.dir '" + run +
                        "' already holds a run (checkpoint.bin, metrics.jsonl, summary.json); "
                        "continue it with --resume " +
                        run +
                        ", or start a new one there with --overwrite, which "
                        "deletes them")
                           .c_str(),
                       ag::app::ConfigError);
  const auto again = ag::app::train(config, ag::app::StartMode::overwrite);
  CHECK(again.epochs_completed == 1);
}

TEST_CASE("a stop requested while a run is set up ends it at once: nothing trained, nothing written") {
  TempDir dir;
  test::write_learnable_mnist(dir.path(), 32, 1);
  std::vector<std::string> steps;
  ag::app::TrainHooks hooks;
  hooks.after_setup_step = [&](const std::string& step) {
    steps.push_back(step);
    if (step == "loading the training data") ag::app::request_stop(15);
  };
  const auto result = ag::app::train(config_for(dir, 1), ag::app::StartMode::fresh, hooks);
  CHECK(result.stopped_early);
  CHECK(result.trained_nothing);
  CHECK(result.stopped_while == "loading the training data");
  CHECK(result.stop_signal == 15);
  CHECK(steps ==
        std::vector<std::string>{"reading the config", "locking the output folder", "loading the training data"});
  CHECK_FALSE(std::filesystem::exists(dir / "run" / "checkpoint.bin"));
  CHECK_FALSE(std::filesystem::exists(dir / "run" / "config.json"));
  // The request is not carried into the next run.
  CHECK_FALSE(ag::app::train(config_for(dir, 1), ag::app::StartMode::fresh).stopped_early);
}

TEST_CASE("a checkpoint with a valid checksum but impossible contents is refused") {
  TempDir dir;
  const auto config = config_for(dir, 1);
  std::filesystem::create_directories(dir / "run");
  const std::filesystem::path path = dir / "run" / "checkpoint.bin";
  ag::app::CheckpointContents good = contents_of(config);
  good.rng_state = ag::Generator(1).state();
  good.batch_size = 16, good.train_samples = 32;
  ag::app::save_checkpoint(path, good);
  ag::app::CheckpointContents loaded = contents_of(config);
  ag::app::load_checkpoint(path, loaded);
  CHECK(loaded.version == ag::app::kCheckpointVersion);
  CHECK(loaded.batch_size == 16);
  CHECK(loaded.train_samples == 32);

  ag::app::CheckpointContents bad = good;
  bad.epoch = std::int64_t{1} << 32;  // read as an int, it would be epoch 0: the run trained again
  ag::app::save_checkpoint(path, bad);
  CHECK_THROWS_WITH_AS(
      ag::app::load_checkpoint(path, loaded),
      ("checkpoint: " + path.string() + ": header field \"epoch\": expected an integer in [0, 1000], got 4294967296")
          .c_str(),
      ag::Error);
  bad = good;
  bad.batches_done = 2;  // two batches of 16 are all 32 samples: a mid-epoch checkpoint has fewer
  ag::app::save_checkpoint(path, bad);
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, loaded),
                       ("checkpoint: " + path.string() +
                        ": header field \"batches_done\": expected an integer in [0, 1], got 2")
                           .c_str(),
                       ag::Error);
  // A NaN where the model's first tensor is, written with a checksum that fits: only the value gives it away.
  bad = good;
  const ag::Tensor first = good.tensors.front().second;
  std::vector<double> values = first.to_vector();
  values[3] = std::numeric_limits<double>::quiet_NaN();
  bad.tensors.front().second = ag::from_vector(values, first.shape(), first.dtype());
  ag::app::save_checkpoint(path, bad);
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, loaded),
                       ("checkpoint: " + path.string() + ": tensor " + good.tensors.front().first +
                        " holds NaN at element 3; training never checkpoints a value that is not finite, so the file "
                        "is not a good run's")
                           .c_str(),
                       ag::Error);
}

TEST_CASE("the sample order: fixed within an epoch, free at its end") {
  TempDir dir;
  const auto config = ag::app::to_train_config(config_for(dir, 3));
  ag::app::CheckpointContents c;
  c.version = 2, c.epoch = 1, c.batch_size = 16, c.train_limit = 0, c.train_samples = 32;
  CHECK(ag::app::check_sample_order(c, config, 32, 2, "ckpt").empty());
  CHECK(ag::app::check_sample_order(c, config, 30, 2, "ckpt") ==
        std::vector<std::string>{"the number of training samples was 32 when ckpt was written and is 30 now: epoch 2 "
                                 "starts with 30"});
  c.batches_done = 1;
  CHECK(ag::app::check_sample_order(c, config, 32, 2, "ckpt").empty());
  c.batch_size = 8;
  CHECK_THROWS_WITH_AS(ag::app::check_sample_order(c, config, 32, 2, "ckpt"),
                       "train.batch_size: ckpt was written in the middle of epoch 2 (after batch 1) with "
                       "train.batch_size 8; resuming it with 16 would train some of the epoch's samples twice and "
                       "others not at all. Resume with --set train.batch_size=8 (it may change at an epoch's end)",
                       ag::app::ConfigError);
  c.batch_size = 16;
  CHECK_THROWS_WITH_AS(ag::app::check_sample_order(c, config, 31, 2, "ckpt"),
                       ("data.dir: ckpt was written in the middle of epoch 2 (after batch 1) over 32 training samples, "
                        "but '" +
                        dir.path().string() +
                        "' now gives 31: the data changed, and the epoch's sample "
                        "order with it. Resume with the data it was trained on")
                           .c_str(),
                       ag::app::ConfigError);
  c.version = 1;  // records none of them: assumed unchanged, and said so
  CHECK(ag::app::check_sample_order(c, config, 31, 2, "ckpt").size() == 1);
}
