#include "apps/inspect/trained_run.h"

#include "apps/train/checkpoint.h"

namespace ag::app {

TrainedRun load_trained_run(const std::filesystem::path& dir, const std::vector<std::string>& overrides) {
  TrainedRun run;
  run.resolved = load_config((dir / "config.json").string(), overrides);
  run.config = to_train_config(run.resolved);
  run.setup = make_model_setup(run.config);
  // Only the model's tensors are asked for: a checkpoint's optimizer state is not needed to run the model.
  CheckpointContents contents = checkpoint_contents(run.config, run.setup);
  load_checkpoint(dir / "checkpoint.bin", contents);
  run.epoch = contents.epoch;
  run.batches_done = contents.batches_done;
  return run;
}

}  // namespace ag::app
