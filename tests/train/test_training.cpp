// train_lenet's loop end to end on small data the test writes itself: overfitting, checkpoints, resume.
#include <doctest/doctest.h>

#include <apps/train/checkpoint.h>
#include <apps/train/config.h>
#include <apps/train/trainer.h>

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
    ag::app::TrainHooks stop_at;
    stop_at.after_batch = [](int epoch, std::int64_t batch) {
      if (epoch == 2 && batch == 1) ag::app::request_stop();
    };
    const auto first = ag::app::train(config, false, stop_at);
    CHECK(first.stopped_early);
    CHECK(first.epochs_completed == 1);
    const auto second = ag::app::train(config, true);
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
}
