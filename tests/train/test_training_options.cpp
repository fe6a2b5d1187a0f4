// Training options end to end. train.input_gradient_penalty (double back-propagation): both variants train with
// it, its mean is in metrics.jsonl, it changes the weights. data.distortions: they change the weights. With
// either, a run stopped mid-epoch resumes to the same bits and the same metrics; so it does with a rate set at every
// batch (train.schedule.per_batch, warmup_epochs).
#include <doctest/doctest.h>

#include <apps/train/trainer.h>

#include <cmath>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "support/idx_writer.h"
#include "support/temp_dir.h"
#include "train/run_support.h"

using test::config_for;
using test::final_weights;
using test::TempDir;

namespace {

const nlohmann::json kPenalty = {{"train", {{"input_gradient_penalty", 0.5}}}};

/// Returns the records of dir/run/metrics.jsonl.
std::vector<nlohmann::json> metrics_of(const TempDir& dir) {
  std::ifstream in(dir / "run" / "metrics.jsonl");
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
  return records;
}

/// Returns the records without their timings, which differ between any two runs.
std::vector<nlohmann::json> without_timings(std::vector<nlohmann::json> records) {
  for (auto& r : records) r.erase("seconds"), r.erase("eval_seconds"), r.erase("samples_per_second");
  return records;
}

}  // namespace

TEST_CASE("both variants train with the input-gradient penalty: it is in the metrics and changes the weights") {
  for (const std::string variant : {"lecun1998", "modern"}) {
    CAPTURE(variant);
    TempDir plain, penalised;
    test::write_learnable_mnist(plain.path(), 64, 3);
    test::write_learnable_mnist(penalised.path(), 64, 3);
    ag::app::train(config_for(plain, variant, 30), false);
    const auto result = ag::app::train(config_for(penalised, variant, 30, kPenalty), false);
    CHECK(result.epochs_completed == 30);

    const auto records = metrics_of(penalised);
    REQUIRE(records.size() == 30);
    for (const auto& r : records) {
      REQUIRE(r.contains("train_penalty"));
      CHECK(std::isfinite(r["train_penalty"].get<double>()));
      CHECK(r["train_penalty"].get<double>() > 0.0);
    }
    CHECK(records.back()["train_error"].get<double>() == 0.0);  // it still learns the 64 samples
    CHECK_FALSE(metrics_of(plain).front().contains("train_penalty"));  // only a run with the penalty reports it
    CHECK(final_weights(plain, config_for(plain, variant, 30)) !=
          final_weights(penalised, config_for(penalised, variant, 30, kPenalty)));
  }
}

TEST_CASE("a run with the penalty stopped mid-epoch resumes to the same bits and the same metrics") {
  for (const std::string variant : {"lecun1998", "modern"}) {
    CAPTURE(variant);
    TempDir straight, interrupted;
    test::write_learnable_mnist(straight.path(), 80, 5);
    test::write_learnable_mnist(interrupted.path(), 80, 5);
    ag::app::train(config_for(straight, variant, 3, kPenalty), false);

    const auto config = config_for(interrupted, variant, 3, kPenalty);
    const auto [stopped, resumed] = test::train_interrupted(config, 2, 2);
    CHECK(stopped.stopped_early);
    CHECK(resumed.epochs_completed == 3);
    CHECK(final_weights(straight, config_for(straight, variant, 3, kPenalty)) == final_weights(interrupted, config));
    // The partial epoch's penalty sum is in the checkpoint: epoch 2's train_penalty is the uninterrupted run's.
    CHECK(without_timings(metrics_of(straight)) == without_timings(metrics_of(interrupted)));
  }
}

TEST_CASE("distorted training images: a run stopped mid-epoch resumes to the same bits; distortions change it") {
  const nlohmann::json distorted = {{"data", {{"distortions", {{"enabled", true}}}}}};
  for (const std::string variant : {"lecun1998", "modern"}) {
    CAPTURE(variant);
    TempDir straight, interrupted, plain;
    for (const TempDir* dir : {&straight, &interrupted, &plain}) test::write_learnable_mnist(dir->path(), 80, 5);
    ag::app::train(config_for(straight, variant, 2, distorted), false);
    ag::app::train(config_for(plain, variant, 2), false);
    const auto config = config_for(interrupted, variant, 2, distorted);
    const auto [stopped, resumed] = test::train_interrupted(config, 2, 1);
    CHECK(stopped.stopped_early);
    CHECK(resumed.epochs_completed == 2);
    const auto weights = final_weights(interrupted, config);
    CHECK(final_weights(straight, config_for(straight, variant, 2, distorted)) == weights);
    CHECK(without_timings(metrics_of(straight)) == without_timings(metrics_of(interrupted)));
    CHECK(final_weights(plain, config_for(plain, variant, 2)) != weights);
  }
}

TEST_CASE("a rate set at every batch (warm-up, per-batch cosine): a stopped run resumes to the same bits") {
  const nlohmann::json per_batch = {
      {"train", {{"schedule", {{"name", "cosine"}, {"per_batch", true}, {"warmup_epochs", 0.5}}}}}};
  TempDir straight, interrupted, per_epoch;
  for (const TempDir* dir : {&straight, &interrupted, &per_epoch}) test::write_learnable_mnist(dir->path(), 80, 5);
  ag::app::train(config_for(straight, "modern", 3, per_batch), false);
  ag::app::train(config_for(per_epoch, "modern", 3, {{"train", {{"schedule", {{"name", "cosine"}}}}}}), false);
  const auto config = config_for(interrupted, "modern", 3, per_batch);
  const auto [stopped, resumed] = test::train_interrupted(config, 2, 2);
  CHECK(stopped.stopped_early);
  CHECK(resumed.epochs_completed == 3);
  const auto weights = final_weights(interrupted, config);
  CHECK(final_weights(straight, config_for(straight, "modern", 3, per_batch)) == weights);
  CHECK(without_timings(metrics_of(straight)) == without_timings(metrics_of(interrupted)));
  CHECK(final_weights(per_epoch, config_for(per_epoch, "modern", 3)) != weights);
  // metrics.jsonl's lr is the epoch's first batch's: 5 batches of 16, the first's middle at 0.1 epochs, a fifth of
  // the 0.5-epoch warm-up; the cosine then runs over epochs 0.5 to 3.
  const auto records = metrics_of(straight);
  REQUIRE(records.size() == 3);
  CHECK(records[0]["lr"].get<double>() == doctest::Approx(0.003 * 0.1 / 0.5));
  CHECK(records[1]["lr"].get<double>() == doctest::Approx(0.003 * 0.5 * (1 + std::cos(std::numbers::pi * (1.1 - 0.5) / 2.5))));
}
