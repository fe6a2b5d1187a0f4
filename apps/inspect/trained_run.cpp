#include "apps/inspect/trained_run.h"

#include "apps/train/checkpoint.h"

namespace ag::app {

TrainedRun load_trained_run(const std::filesystem::path& dir, const std::vector<std::string>& overrides) {
  TrainedRun run;
  run.resolved = load_config((dir / "config.json").string(), overrides);
  run.config = to_train_config(run.resolved);
  run.setup = make_model_setup(run.config);
  // Every tensor of the run is asked for, the optimizer's state too (then dropped): together they bound the size
  // of the checkpoint file that load_checkpoint accepts, and every one of them is checked.
  const auto optimizer = make_optimizer(run.config, run.setup.model->parameters());
  CheckpointContents contents = checkpoint_contents(run.config, run.setup, optimizer.get());
  load_checkpoint(dir / "checkpoint.bin", contents);
  run.epoch = contents.epoch;
  run.batches_done = contents.batches_done;
  return run;
}

}  // namespace ag::app
