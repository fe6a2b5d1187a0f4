// Resuming a run: the sample order the checkpoint was written in, against the config; the metrics kept.
#include "apps/train/resume.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "apps/train/config_error.h"
#include "autograd/error.h"
#include "nn/data/input_file.h"

namespace ag::app {
namespace {

// "in the middle of epoch 3 (after batch 5)".
std::string position(const CheckpointContents& c) {
  return fmt::format("in the middle of epoch {} (after batch {})", c.epoch + 1, c.batches_done);
}

// Refuses a mid-epoch resume that changes what places it in the epoch's sample order.
void refuse_mid_epoch_change(const CheckpointContents& c, const TrainConfig& config, std::int64_t train_samples,
                             const std::string& where) {
  if (c.batch_size != config.train.batch_size)
    config_fail(
        fmt::format("train.batch_size: {} was written {} with train.batch_size {}; resuming it with {} would "
                    "train some of the epoch's samples twice and others not at all. Resume with --set "
                    "train.batch_size={} (it may change at an epoch's end)",
                    where, position(c), c.batch_size, config.train.batch_size, c.batch_size));
  if (c.train_limit != config.data.train_limit)
    config_fail(
        fmt::format("data.train_limit: {} was written {} with data.train_limit {}; resuming it with {} would "
                    "change the epoch's sample order. Resume with --set data.train_limit={} (it may change "
                    "at an epoch's end)",
                    where, position(c), c.train_limit, config.data.train_limit, c.train_limit));
  if (c.train_samples != train_samples)
    config_fail(
        fmt::format("data.dir: {} was written {} over {} training samples, but '{}' now gives {}: the data "
                    "changed, and the epoch's sample order with it. Resume with the data it was trained on",
                    where, position(c), c.train_samples, config.data.dir, train_samples));
}

// The notes for changes at an epoch's end, which the next epoch simply starts with.
std::vector<std::string> epoch_end_notes(const CheckpointContents& c, const TrainConfig& config,
                                         std::int64_t train_samples, const std::string& where) {
  std::vector<std::string> notes;
  const auto note = [&](std::string_view what, std::int64_t then, std::int64_t now) {
    if (then != now)
      notes.push_back(fmt::format("{} was {} when {} was written and is {} now: epoch {} starts with {}", what, then,
                                  where, now, c.epoch + 1, now));
  };
  note("train.batch_size", c.batch_size, config.train.batch_size);
  note("data.train_limit", c.train_limit, config.data.train_limit);
  note("the number of training samples", c.train_samples, train_samples);
  return notes;
}

}  // namespace

std::vector<std::string> check_sample_order(const CheckpointContents& checkpoint, const TrainConfig& config,
                                            std::int64_t train_samples, std::int64_t batches,
                                            const std::string& where) {
  const CheckpointContents& c = checkpoint;
  if (c.batches_done == 0)
    return c.version >= 2 ? epoch_end_notes(c, config, train_samples, where) : std::vector<std::string>{};
  if (c.version >= 2) {
    refuse_mid_epoch_change(c, config, train_samples, where);
    return {};
  }
  if (c.batches_done >= batches)
    config_fail(
        fmt::format("train.batch_size: {} was written {}, but an epoch now has only {} batches; were "
                    "train.batch_size or the data changed since?",
                    where, position(c), batches));
  return {
      fmt::format("{} is a version 1 checkpoint written {}, which does not record train.batch_size or the "
                  "training data; resuming assumes they are unchanged ({} and {} samples now)",
                  where, position(c), config.train.batch_size, train_samples)};
}

std::string metrics_up_to(const std::filesystem::path& path, std::int64_t epoch) {
  if (std::error_code ec; !std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return {};
  std::string text;
  try {
    data::InputFile file(path, "metrics file", kMaxMetricsFileBytes, "a metrics file may hold");
    text = file.read_all();
  } catch (const data::InputFileError& e) {
    fail("resume", "{}: {}", path.string(), e.what());
  }
  std::istringstream in(text);
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // A line that is not a record of a finished epoch (a torn or foreign line) is dropped, never misread.
    const auto record = nlohmann::json::parse(line, nullptr, false);
    const auto at = record.is_object() ? record.find("epoch") : record.end();
    if (at != record.end() && at->is_number_integer() && at->get<std::int64_t>() <= epoch) kept += line + "\n";
  }
  return kept;
}

}  // namespace ag::app
