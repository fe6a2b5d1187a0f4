#pragma once
/// Checkpoints: a model's weights, its optimizer's state, the epoch and the RNG state, in one binary file
/// with a version and a checksum, written atomically. The format is described in docs/checkpoint.md.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace ag::app {

/// Everything a checkpoint holds. Tensors are handles: loading writes into them in place.
struct CheckpointContents {
  std::string variant;                                  ///< model.variant, checked on load
  std::string optimizer;                                ///< train.optimizer.name, checked on load
  std::int64_t epoch = 0;                               ///< epochs completed
  std::int64_t batches_done = 0;                        ///< batches of epoch+1 already done (a mid-epoch stop)
  double epoch_loss_sum = 0;                            ///< that partial epoch's summed loss ...
  std::int64_t epoch_errors = 0;                        ///< ... and misclassified training samples
  std::int64_t optimizer_steps = 0;                     ///< the optimizer's step count (Adam's bias correction)
  std::string rng_state;                                ///< the shuffling generator's state at the start of epoch+1
  std::vector<std::pair<std::string, Tensor>> tensors;  ///< parameters then optimizer state, by name
};

/// The current format version; a file of another version is refused with a clear error.
inline constexpr std::uint32_t kCheckpointVersion = 1;

/// Writes `contents` to `path` atomically: a temporary file beside it, flushed to disk, then renamed over
/// `path`, so a crash at any moment leaves either the old checkpoint or the new one, never a torn file.
void save_checkpoint(const std::filesystem::path& path, const CheckpointContents& contents);

/// Reads the checkpoint at `path` into `contents`: its variant and optimizer must equal contents' and
/// every tensor named in `contents` must be present with the same shape and dtype; values are copied
/// into those tensors, and epoch, steps and rng_state are filled. Throws ag::Error naming the file and
/// the fault (missing, not a checkpoint, wrong version, truncated, checksum mismatch, other model).
void load_checkpoint(const std::filesystem::path& path, CheckpointContents& contents);

}  // namespace ag::app
