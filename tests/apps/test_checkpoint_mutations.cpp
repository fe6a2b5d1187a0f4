// A checkpoint changed byte by byte, its checksum made right again: whatever the change, load_checkpoint either
// loads it or refuses it with an ag::Error naming the file, never another exception or a crash (the sanitizer
// builds run this too), and a refused file leaves the model's tensors as they were.
#include <doctest/doctest.h>

#include <apps/train/checkpoint.h>
#include <apps/train/config.h>
#include <apps/train/run_setup.h>
#include <autograd/error.h>
#include <nn/serialize/checksum.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/temp_dir.h"

using test::TempDir;

namespace {

/// The checkpoint contents of a fresh LeNet-5 run with SGD: every tensor, values as initialised.
ag::app::CheckpointContents fresh_contents() {
  const nlohmann::json train = {{"epochs", 3}, {"batch_size", 16}, {"seed", 7}, {"optimizer", {{"name", "sgd"}}}};
  const nlohmann::json doc = {{"data", {{"dir", "unused"}}}, {"train", train}};
  const auto config = ag::app::to_train_config(ag::app::resolve_config(doc, "test config"));
  const ag::app::ModelSetup setup = ag::app::make_model_setup(config);
  const auto optimizer = ag::app::make_optimizer(config, setup.model->parameters());
  return ag::app::checkpoint_contents(config, setup, optimizer.get());
}

/// Every value of `contents`' tensors, in order.
std::vector<double> values_of(const ag::app::CheckpointContents& contents) {
  std::vector<double> out;
  for (const auto& [name, t] : contents.tensors) {
    const auto v = t.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace

TEST_CASE("a checkpoint changed in any byte of its frame, header or entry table is loaded or refused, never misread") {
  TempDir dir;
  const std::string path = (dir / "checkpoint.bin").string();
  ag::app::CheckpointContents saved = fresh_contents();
  saved.rng_state = ag::Generator(1).state();
  saved.epoch = 1, saved.batch_size = 16, saved.train_samples = 32;
  ag::app::save_checkpoint(path, saved);
  std::ifstream in(path, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();

  // The bytes before the first value (docs/state_format.md): the frame's 24, the metadata (the header), and per
  // entry its name's length (4), the name, dtype and rank (2) and 8 per dimension.
  std::uint64_t metadata = 0;
  std::memcpy(&metadata, good.data() + 16, sizeof metadata);
  std::size_t table_end = 24 + metadata;
  for (const auto& [name, t] : saved.tensors) table_end += 4 + name.size() + 2 + 8 * static_cast<std::size_t>(t.dim());
  REQUIRE(table_end < good.size());

  ag::app::CheckpointContents target = fresh_contents();
  const std::vector<double> before = values_of(target);
  // Every seventh byte, with a low bit, the high bit or all bits flipped in turn: a few hundred loads of a file of
  // half a megabyte, seconds in all.
  const unsigned char flips[] = {0x01, 0x80, 0xff};
  int loaded = 0, refused = 0, tried = 0;
  for (std::size_t at = 0; at < table_end; at += 7, ++tried) {
    {
      const unsigned char flip = flips[tried % 3];
      std::string bad = good;
      bad[at] = static_cast<char>(bad[at] ^ flip);
      const std::uint64_t sum = ag::nn::fnv1a64(std::string_view(bad.data(), bad.size() - 8));
      std::memcpy(bad.data() + bad.size() - 8, &sum, sizeof sum);
      std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
      ag::app::CheckpointContents attempt = target;
      try {
        ag::app::load_checkpoint(path, attempt);
        ++loaded;  // a change the format allows (a digit of the loss sum, a letter of no consequence): read as is
      } catch (const ag::Error& e) {
        ++refused;
        CAPTURE(at);
        CHECK(std::string(e.what()).starts_with("checkpoint: " + path + ": "));
        CHECK(values_of(target) == before);  // verified before copied: nothing was written
      }
    }
  }
  CHECK(refused > 0);
  CHECK(refused + loaded == tried);
}
