#pragma once
/// Checkpoints: a model's weights, its optimizer's state, the epoch and the RNG state, in one state file
/// (nn/serialize/state_file.h) whose metadata is the run's header, written atomically. The format is described in
/// docs/checkpoint.md. Being a state file, a checkpoint's weights also load into a model with nn::load_state.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"
#include "models/lenet5.h"

namespace ag::app {

/// Everything a checkpoint holds. Tensors are handles: loading writes into them in place.
struct CheckpointContents {
  std::string variant;                                  ///< model.variant, checked on load
  std::string optimizer;                                ///< train.optimizer.name, checked on load
  /// lecun1998's readings of the paper (models::paper_options_text), checked on load; files without the field
  /// (before version 3's model_options) hold the paper's.
  std::string model_options = models::paper_options_text({});
  std::int64_t epoch = 0;                               ///< epochs completed
  std::int64_t batches_done = 0;                        ///< batches of epoch+1 already done (a mid-epoch stop)
  double epoch_loss_sum = 0;                            ///< that partial epoch's summed loss ...
  std::int64_t epoch_errors = 0;                        ///< ... misclassified training samples ...
  double epoch_penalty_sum = 0;                         ///< ... and summed input-gradient penalty
  std::int64_t optimizer_steps = 0;                     ///< the optimizer's step count (Adam's bias correction)
  std::string rng_state;                                ///< the shuffling generator's state at the start of epoch+1
  // What places the run in its sample order (version 2; 0 when a version 1 file is loaded): the order of an
  // epoch is drawn from rng_state over train_samples, and batches_done batches of batch_size were taken of it.
  std::int64_t batch_size = 0;     ///< train.batch_size of the epoch being trained
  std::int64_t train_limit = 0;    ///< data.train_limit
  std::int64_t train_samples = 0;  ///< the training samples an epoch holds (data.train_limit applied)
  std::uint32_t version = 0;       ///< the format version of the file loaded (filled by load_checkpoint)
  std::vector<std::pair<std::string, Tensor>> tensors;  ///< parameters then optimizer state, by name
};

/// The format version written (a state file); load_checkpoint reads it, and versions 1 and 2 (the "LENETCKP"
/// layout, version 1 without batch_size, train_limit and train_samples), and refuses any other with a clear error.
inline constexpr std::uint32_t kCheckpointVersion = 3;

/// Writes `contents` to `path` as a state file of format version 3, atomically: a temporary file beside it, flushed
/// to disk, then renamed over `path`, so a crash at any moment leaves either the old checkpoint or the new one.
void save_checkpoint(const std::filesystem::path& path, const CheckpointContents& contents);

/// Reads the checkpoint at `path` into `contents`: its variant and optimizer must equal contents' and
/// every tensor named in `contents` must be present with the same shape and dtype; values are copied
/// into those tensors, and the counters, rng_state and version are filled. `contents` should name every tensor
/// of the run (parameters and optimizer state): their size bounds the file's. The file must be a regular one
/// of at most that size (a FIFO or a device is refused before a byte is read); its checksum is verified before
/// any other field is interpreted, then every header field is bounded by what a real run can write and every
/// value must be finite. Throws ag::Error naming the file and the fault (missing, special or oversized file,
/// not a checkpoint, checksum mismatch, wrong version, a field out of bounds, NaN or Inf, other model).
void load_checkpoint(const std::filesystem::path& path, CheckpointContents& contents);

}  // namespace ag::app
