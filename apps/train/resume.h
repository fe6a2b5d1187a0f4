#pragma once
/// What resuming a run checks and restores besides the checkpoint's tensors: that the config keeps the sample
/// order the checkpoint was written in, and the metrics of the epochs it holds.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/train/checkpoint.h"
#include "apps/train/train_config.h"

namespace ag::app {

/// The most bytes a metrics.jsonl is read with: a line per epoch of a few hundred bytes, for at most 1000 epochs,
/// is far below it.
inline constexpr std::uint64_t kMaxMetricsFileBytes = std::uint64_t{64} << 20;

/// Checks that `config` keeps the sample order of `checkpoint` (loaded from `where`), with `train_samples` the
/// training samples an epoch now holds and `batches` the batches it now has. Within an epoch the order and the
/// position are fixed: a change of train.batch_size, data.train_limit or the data is refused with a ConfigError
/// naming the key and how to resume. At an epoch's end they may change: each change is returned as a note
/// saying that the next epoch starts with it. A version 1 checkpoint written within an epoch records none of
/// them; the note returned says that they are assumed unchanged.
std::vector<std::string> check_sample_order(const CheckpointContents& checkpoint, const TrainConfig& config,
                                            std::int64_t train_samples, std::int64_t batches, const std::string& where);

/// Returns the lines of the metrics file at `path` for epochs <= `epoch` (those a resumed run continues from);
/// "" when there is no such file. Throws ag::Error when it is not a regular file or cannot be read.
std::string metrics_up_to(const std::filesystem::path& path, std::int64_t epoch);

}  // namespace ag::app
