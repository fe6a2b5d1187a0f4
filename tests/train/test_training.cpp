// train_lenet's loop end to end on small data the test writes itself: overfitting, checkpoints, resume.
#include <doctest/doctest.h>

#include <apps/train/checkpoint.h>
#include <apps/train/config.h>
#include <apps/train/evaluation.h>
#include <apps/train/time_to_target.h>
#include <apps/train/trainer.h>
#include <nn/serialize/module_state.h>

#include <fstream>

#include "support/idx_writer.h"
#include "support/temp_dir.h"
#include "train/run_support.h"

using test::TempDir;

using test::config_for;
using test::final_weights;

TEST_CASE("both variants overfit 64 samples to zero training error in a few seconds") {
  for (const std::string variant : {"lecun1998", "modern"}) {
    CAPTURE(variant);
    TempDir dir;
    test::write_learnable_mnist(dir.path(), 64, 3);
    const auto result = ag::app::train(config_for(dir, variant, 30), false);
    CHECK(result.epochs_completed == 30);
    std::ifstream metrics(dir / "run" / "metrics.jsonl");
    std::string line, last;
    int lines = 0;
    while (std::getline(metrics, line)) last = line, ++lines;
    CHECK(lines == 30);
    const auto record = nlohmann::json::parse(last);
    CHECK(record["train_error"].get<double>() == 0.0);
    CHECK(record["test_error"].get<double>() == 0.0);  // the "test" split is the same 64 samples
    for (const char* key : {"epoch", "lr", "train_loss", "test_loss", "seconds", "samples_per_second"})
      CHECK(record.contains(key));
    const auto summary = nlohmann::json::parse(std::ifstream(dir / "run" / "summary.json"));
    CHECK(summary["test_error"].get<double>() == 0.0);
  }
}

TEST_CASE("a run stopped mid-epoch and resumed ends with bitwise the same weights as an uninterrupted one") {
  for (const std::string variant : {"lecun1998", "modern"}) {
    CAPTURE(variant);
    TempDir straight, interrupted;
    test::write_learnable_mnist(straight.path(), 80, 5);
    test::write_learnable_mnist(interrupted.path(), 80, 5);
    ag::app::train(config_for(straight, variant, 3), false);

    const auto config = config_for(interrupted, variant, 3);
    const auto [first, second] = test::train_interrupted(config, 2, 1);
    CHECK(first.stopped_early);
    CHECK(first.epochs_completed == 1);
    CHECK_FALSE(second.stopped_early);
    CHECK(second.epochs_completed == 3);
    CHECK(final_weights(straight, config_for(straight, variant, 3)) == final_weights(interrupted, config));
  }
}

TEST_CASE("a checkpoint from another variant, a truncated or corrupt one, or a missing one is refused") {
  TempDir dir;
  test::write_learnable_mnist(dir.path(), 32, 1);
  const auto config = config_for(dir, "modern", 1);
  ag::app::train(config, false);
  const auto path = (dir / "run" / "checkpoint.bin").string();
  const auto modern_config = ag::app::to_train_config(config);
  auto setup = ag::app::make_model_setup(modern_config);
  auto make_contents = [&](const std::string& variant) {
    ag::app::CheckpointContents c;
    c.variant = variant;
    c.optimizer = "adam";
    for (const auto& p : setup.model->parameters()) c.tensors.emplace_back(p.name, p.value);
    return c;
  };
  auto other = make_contents("lecun1998");
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, other),
                       (std::string("checkpoint: ") + path + ": holds a modern model, but the config asks for lecun1998").c_str(),
                       ag::Error);

  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto rewrite = [&](const std::string& data) { std::ofstream(path, std::ios::binary | std::ios::trunc) << data; };

  rewrite(bytes.substr(0, bytes.size() - 100));
  auto same = make_contents("modern");
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, same),
                       (std::string("checkpoint: ") + path + ": checksum mismatch: the file is corrupt or truncated").c_str(),
                       ag::Error);
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x10;
  rewrite(flipped);
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, same),
                       (std::string("checkpoint: ") + path + ": checksum mismatch: the file is corrupt or truncated").c_str(),
                       ag::Error);
  // The checksum is verified before any other field: a damaged version is damage, not another version.
  std::string version = bytes;
  version[8] = 9;
  rewrite(version);
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, same),
                       (std::string("checkpoint: ") + path + ": checksum mismatch: the file is corrupt or truncated").c_str(),
                       ag::Error);
  rewrite("PK\x03\x04 not a checkpoint");
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, same),
                       (std::string("checkpoint: ") + path + ": not a lenetgrad checkpoint (bad magic bytes)").c_str(), ag::Error);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, same),
                       (std::string("checkpoint: ") + path + ": cannot open the checkpoint: No such file or directory").c_str(),
                       ag::Error);
  rewrite(bytes);
  CHECK_NOTHROW(ag::app::load_checkpoint(path, same));
  // The readings of the paper are part of the model: a checkpoint is refused by a config that reads it otherwise.
  auto averaged = make_contents("modern");
  averaged.model_options = ag::models::paper_options_text({.window_average = true});
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, averaged),
                       (std::string("checkpoint: ") + path +
                        ": holds a model with input padded_32, subsampling sum, squash scaled_tanh, codes bitmaps, "
                        "but the config asks for input padded_32, subsampling average, squash scaled_tanh, codes "
                        "bitmaps")
                           .c_str(),
                       ag::Error);
  // The initialisation too: its name is added to the text when it is not the paper's.
  auto rooted = make_contents("modern");
  rooted.model_options = ag::models::paper_options_text({.init = ag::nn::Init::lecun_sqrt});
  CHECK(rooted.model_options == "input padded_32, subsampling sum, squash scaled_tanh, codes bitmaps, init lecun_sqrt");
  CHECK_THROWS_WITH_AS(ag::app::load_checkpoint(path, rooted),
                       (std::string("checkpoint: ") + path +
                        ": holds a model with input padded_32, subsampling sum, squash scaled_tanh, codes bitmaps, "
                        "but the config asks for input padded_32, subsampling sum, squash scaled_tanh, codes "
                        "bitmaps, init lecun_sqrt")
                           .c_str(),
                       ag::Error);
}

TEST_CASE("a run's checkpoint is a state file: nn::load_state takes the trained weights from it") {
  for (const std::string variant : {"lecun1998", "modern"}) {
    CAPTURE(variant);
    TempDir dir;
    test::write_learnable_mnist(dir.path(), 32, 1);
    const auto resolved = config_for(dir, variant, 1);
    ag::app::train(resolved, false);
    const std::vector<std::vector<double>> saved = final_weights(dir, resolved);  // parameters, then optimizer state

    auto setup = ag::app::make_model_setup(ag::app::to_train_config(resolved));
    const auto report = ag::nn::load_state(*setup.model, dir / "run" / "checkpoint.bin", {.strict = false});
    const auto parameters = setup.model->parameters();
    REQUIRE(report.loaded.size() == parameters.size());
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      CHECK(report.loaded[i] == parameters[i].name);
      CHECK(parameters[i].value.to_vector() == saved[i]);  // bitwise: float32 values compared as doubles
    }
    // The optimizer's state is in the file but not in the model; the buffers (RBF centres) the other way round.
    CHECK(report.unexpected.size() == saved.size() - parameters.size());
    CHECK(report.missing.size() == setup.model->buffers().size());
    // Strict loading names the first entry the two disagree on.
    CHECK_THROWS_AS(ag::nn::load_state(*setup.model, dir / "run" / "checkpoint.bin"), ag::Error);
  }
}

TEST_CASE("summary.json's time_to_target: the training seconds up to the first epoch at train.target_error") {
  TempDir dir;
  test::write_learnable_mnist(dir.path(), 64, 3);
  const auto config = config_for(dir, "modern", 6, {{"train", {{"target_error", 0.2}}}});
  ag::app::train(config, false);
  std::ifstream metrics(dir / "run" / "metrics.jsonl");
  double seconds = 0;
  nlohmann::json expected = nullptr;
  for (std::string line; std::getline(metrics, line);) {
    const auto record = nlohmann::json::parse(line);
    REQUIRE(record.contains("eval_seconds"));  // each epoch's evaluation, apart from its training seconds
    CHECK(record["eval_seconds"].get<double>() >= 0.0);
    seconds += record["seconds"].get<double>();
    if (expected.is_null() && record["test_error"].get<double>() <= 0.2) expected = seconds;
  }
  const auto summary = nlohmann::json::parse(std::ifstream(dir / "run" / "summary.json"));
  REQUIRE_FALSE(expected.is_null());  // 64 learnable samples reach 20 % error within 6 epochs
  CHECK(summary["target_error"].get<double>() == 0.2);
  CHECK(summary["time_to_target"].get<double>() == doctest::Approx(expected.get<double>()).epsilon(1e-12));
}

TEST_CASE("time_to_target reads metrics.jsonl's text: the first epoch at the target, null when none reached it") {
  const std::string text = "{\"epoch\":1,\"seconds\":1.5,\"test_error\":0.3}\n"
                           "not a record\n"
                           "{\"epoch\":2,\"seconds\":2.0,\"test_error\":0.01}\n"
                           "{\"epoch\":3,\"seconds\":4.0,\"test_error\":0.005}\n";
  CHECK(ag::app::time_to_target(text, 0.01).get<double>() == 3.5);
  CHECK(ag::app::time_to_target(text, 0.3).get<double>() == 1.5);
  CHECK(ag::app::time_to_target(text, 0.001).is_null());
  CHECK(ag::app::time_to_target("", 0.5).is_null());
}

TEST_CASE("an error rate exactly at train.target_error reaches it: 100 wrong of 10,000 is 0.01") {
  CHECK(ag::app::error_rate(100, 10000) == 0.01);
  CHECK(ag::app::error_rate(87, 10000) == 0.0087);
  CHECK(ag::app::error_rate(0, 0) == 0.0);
  const nlohmann::json record = {{"epoch", 1}, {"seconds", 2.5}, {"test_error", ag::app::error_rate(100, 10000)}};
  CHECK(ag::app::time_to_target(record.dump() + "\n", 0.01).get<double>() == 2.5);
}
