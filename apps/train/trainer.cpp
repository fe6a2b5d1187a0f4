// The training loop of train_lenet: a Trainer sets a run up from its config, resumes it from a checkpoint when
// asked, runs its epochs batch by batch, checkpoints it and writes its metrics and summary.
#include "apps/train/trainer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "apps/train/checkpoint.h"
#include "apps/train/config_error.h"
#include "apps/train/curvature_estimate.h"
#include "apps/train/evaluation.h"
#include "apps/train/file_output.h"
#include "apps/train/output_folder.h"
#include "apps/train/progress.h"
#include "apps/train/resume.h"
#include "apps/train/stop_request.h"
#include "apps/train/time_to_target.h"
#include "apps/train/training_step.h"
#include "autograd/anomaly.h"
#include "autograd/backward.h"
#include "autograd/parallel.h"

namespace ag::app {
namespace {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// Thrown by a set-up step that finds a stop requested: nothing has been trained, and nothing written but the
/// output folder and its lock file.
struct StopBeforeTraining {
  std::string step;  // what the run was doing: "loading the training data"
};

/// The generator that shuffles the training set: a stream of its own, so that the model's
/// initialisation and the order of samples do not depend on each other.
constexpr std::uint64_t kShuffleStream = 0x9e3779b97f4a7c15ull;

/// Throws when a parameter or optimizer state tensor holds NaN or Inf, naming it and, from `context()`, when
/// it was found and what is kept: a broken model is never written over the last good checkpoint.
template <class Context>
void require_finite(const NamedTensors& tensors, const Context& context) {
  for (const auto& [name, t] : tensors) {
    try {
      check_finite(name, "training", t);
    } catch (const Error& e) {
      throw Error(fmt::format("{} ({}). Set train.anomaly_detection=true to name the op that produced it", e.what(),
                              context()));
    }
  }
}

/// Returns order[start, start + count).
std::span<const std::int64_t> slice(std::span<const std::int64_t> order, std::int64_t start, std::int64_t count) {
  return order.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(count));
}

bool use_bar(ProgressMode mode) {
  return mode == ProgressMode::bar || (mode == ProgressMode::automatic && is_terminal(stdout));
}

/// One run of train(): the constructor sets it up, run() trains it to the end or to a requested stop.
class Trainer {
 public:
  /// Sets a run up from `resolved`: kernel threads, output folder (locked, and checked for another run unless
  /// `mode` overwrites or resumes it), data, model, optimizer, schedule, generator.
  Trainer(const nlohmann::json& resolved, StartMode mode, const TrainHooks& hooks);
  /// Trains (after restoring the checkpoint in output.dir when resuming) and returns what the run reports.
  TrainResult run();

 private:
  void step_done(const std::string& step) const;
  void refuse_other_run() const;
  void remove_previous_run() const;
  void resume_from_checkpoint();
  bool run_epoch(int epoch);
  void train_batch(int epoch, std::int64_t batch, std::span<const std::int64_t> order, EpochProgress& progress);
  void end_epoch(int epoch, double lr, const EpochProgress& progress);
  void save(int epochs_done, std::int64_t batches_done, const EpochProgress* partial);
  std::string kept() const;
  void finish();

  const nlohmann::json& resolved_;
  const TrainHooks& hooks_;
  const StartMode mode_;
  const TrainConfig config_;
  std::optional<OutputFolder> folder_;  // locked for the run's life
  std::filesystem::path out_dir_, checkpoint_path_, metrics_path_;
  data::Dataset train_set_, test_set_;
  ModelSetup setup_;
  std::unique_ptr<nn::Optimizer> optimizer_;
  nn::Schedule schedule_;
  Generator shuffle_;
  std::optional<AnomalyModeGuard> anomaly_;
  CheckpointContents contents_;  // everything a checkpoint saves and restores: parameters, optimizer state
  NamedTensors parameters_;      // the model's parameters, checked after every optimizer step
  std::int64_t batch_size_ = 0, batches_ = 0;  // samples per batch, batches per epoch
  int first_epoch_ = 1;
  std::int64_t resume_batches_ = 0;  // batches of first_epoch_ done before the checkpoint resumed from
  std::string metrics_text_;         // metrics.jsonl as written so far
  std::string epoch_start_rng_;      // the shuffling generator's state at the start of the current epoch
  bool have_checkpoint_ = false;
  TrainResult result_;
};

Trainer::Trainer(const nlohmann::json& resolved, StartMode mode, const TrainHooks& hooks)
    : resolved_(resolved), hooks_(hooks), mode_(mode), config_(to_train_config(resolved)) {
  step_done("reading the config");
  ag::set_num_threads(config_.train.threads);  // results are bitwise the same for any count (autograd/parallel.h)
  folder_.emplace(config_.output.dir, "train_lenet");
  out_dir_ = folder_->path();
  checkpoint_path_ = out_dir_ / "checkpoint.bin";
  metrics_path_ = out_dir_ / "metrics.jsonl";
  if (mode_ == StartMode::fresh) refuse_other_run();
  step_done("locking the output folder");
  train_set_ = load_split(config_, "train");
  step_done("loading the training data");
  test_set_ = load_split(config_, "test");
  step_done("loading the test data");
  setup_ = make_model_setup(config_);
  optimizer_ = make_optimizer(config_, setup_.model->parameters());
  // Weights whose gradient a backward rule computes in blocks (C5, the linear layers) are updated there, each
  // block in the L1 cache, and step() updates the rest (the same bits); each update checks what it wrote.
  optimizer_->update_in_backward();
  optimizer_->watch_non_finite();
  schedule_ = make_schedule(config_);
  shuffle_ = Generator(config_.train.seed ^ kShuffleStream);
  if (config_.train.anomaly_detection) anomaly_.emplace();
  contents_ = checkpoint_contents(config_, setup_, optimizer_.get());
  const auto parameter_count = static_cast<std::ptrdiff_t>(setup_.model->parameters().size());
  parameters_.assign(contents_.tensors.begin(), contents_.tensors.begin() + parameter_count);
  batch_size_ = config_.train.batch_size;
  batches_ = (train_set_.count + batch_size_ - 1) / batch_size_;
  step_done("building the model");
}

TrainResult Trainer::run() {
  if (mode_ == StartMode::resume) {
    resume_from_checkpoint();
    step_done("loading the checkpoint");
  }
  if (mode_ == StartMode::overwrite) remove_previous_run();
  write_file_atomically(out_dir_ / "config.json", resolved_.dump(2) + "\n");
  write_file_atomically(metrics_path_, metrics_text_);
  result_.epochs_completed = first_epoch_ - 1;
  for (int epoch = first_epoch_; epoch <= config_.train.epochs; ++epoch) {
    if (!run_epoch(epoch)) {
      result_.stopped_early = true;
      result_.stop_signal = stop_signal();
      return result_;
    }
  }
  finish();
  return result_;
}

/// Ends a step of setting the run up: tells the hook, and honours a stop requested meanwhile at once (nothing is
/// trained yet, so there is nothing to checkpoint).
void Trainer::step_done(const std::string& step) const {
  if (hooks_.after_setup_step) hooks_.after_setup_step(step);
  if (stop_requested()) throw StopBeforeTraining{step};
}

/// Refuses to start a new run in a folder that holds another run's results: they would be overwritten at start.
void Trainer::refuse_other_run() const {
  const std::vector<std::string> files = run_files_in(out_dir_);
  if (files.empty()) return;
  throw ConfigError(fmt::format("output.dir '{}' already holds a run ({}); continue it with --resume {}, or start a "
                                "new one there with --overwrite, which deletes them",
                                out_dir_.string(), fmt::join(files, ", "), out_dir_.string()));
}

/// Deletes the results of the run that --overwrite replaces, so that none of them is mistaken for the new run's.
void Trainer::remove_previous_run() const {
  for (const std::string& name : run_files_in(out_dir_)) {
    if (std::error_code ec; !std::filesystem::remove(out_dir_ / name, ec) && ec)
      throw Error(fmt::format("output.dir '{}': cannot delete {} for --overwrite: {}", out_dir_.string(), name,
                              ec.message()));
  }
}

/// Restores the model, the optimizer, the shuffling generator and the metrics of the checkpoint in output.dir.
void Trainer::resume_from_checkpoint() {
  if (std::error_code ec; !std::filesystem::exists(std::filesystem::symlink_status(checkpoint_path_, ec))) {
    throw Error(fmt::format("--resume {}: there is no checkpoint.bin to resume from (the run was stopped before "
                            "its first checkpoint); start it again with --config",
                            out_dir_.string()));
  }
  load_checkpoint(checkpoint_path_, contents_);
  for (const std::string& note :
       check_sample_order(contents_, config_, train_set_.count, batches_, checkpoint_path_.string()))
    fmt::print(stderr, "train_lenet: note: {}\n", note);
  optimizer_->set_steps(contents_.optimizer_steps);
  shuffle_.set_state(contents_.rng_state);
  first_epoch_ = static_cast<int>(contents_.epoch) + 1;  // at most train.epochs' bound: load_checkpoint checks
  resume_batches_ = contents_.batches_done;
  metrics_text_ = metrics_up_to(metrics_path_, contents_.epoch);
  have_checkpoint_ = true;
  fmt::print("resuming {} after epoch {}\n", checkpoint_path_.string(), contents_.epoch);
}

/// Runs epoch `epoch` (1-based) and checkpoints as configured; returns false when a stop request ended the run
/// (after writing a checkpoint).
bool Trainer::run_epoch(int epoch) {
  const double lr = batch_learning_rate(config_, schedule_, epoch, 0, batches_);  // metrics.jsonl's: the first
  optimizer_->set_learning_rate(lr);
  // A checkpoint within the epoch stores the generator's state at its start, so the same order is drawn again.
  epoch_start_rng_ = shuffle_.state();
  const std::vector<std::int64_t> order = data::shuffled_indices(train_set_.count, shuffle_);
  EpochProgress progress(epoch, config_.train.epochs, batches_, use_bar(config_.output.progress));
  const std::int64_t first_batch = std::exchange(resume_batches_, 0);
  // SDLM's curvature, in the epoch's seconds; a run resumed within the epoch has the estimate in its checkpoint.
  if (first_batch == 0) estimate_curvature(config_, setup_, train_set_, *optimizer_, epoch);
  if (first_batch > 0) {
    progress.restore(first_batch, std::min(first_batch * batch_size_, train_set_.count), contents_.epoch_loss_sum,
                     contents_.epoch_errors, contents_.epoch_penalty_sum);
  }
  const int every_batches = config_.output.checkpoint_every_batches;
  for (std::int64_t b = first_batch; b < batches_; ++b) {
    train_batch(epoch, b, order, progress);
    if (hooks_.after_batch) hooks_.after_batch(epoch, b);
    if (stop_requested() && b + 1 < batches_) {
      progress.finish();
      save(epoch - 1, b + 1, &progress);
      fmt::print("stopped after batch {} of epoch {}; {} holds the state, --resume continues\n", b + 1, epoch,
                 checkpoint_path_.string());
      return false;
    }
    if (every_batches > 0 && (b + 1) % every_batches == 0 && b + 1 < batches_) {
      save(epoch - 1, b + 1, &progress);  // a periodic mid-epoch checkpoint: a kill loses little work
    }
  }
  progress.finish();
  end_epoch(epoch, lr, progress);
  const bool last = epoch == config_.train.epochs;
  const bool stop = stop_requested();  // read once: a stop is either checkpointed here or honoured later
  const int every = config_.output.checkpoint_every;
  if (last || stop || (every > 0 && epoch % every == 0)) save(epoch, 0, nullptr);
  if (stop && !last) {
    fmt::print("stopped after epoch {}; {} holds the state, --resume continues\n", epoch, checkpoint_path_.string());
    return false;
  }
  return true;
}

/// Trains on batch `batch` of `epoch`, the samples order[batch * batch_size, ...], and records it in `progress`.
void Trainer::train_batch(int epoch, std::int64_t batch, std::span<const std::int64_t> order,
                          EpochProgress& progress) {
  const std::int64_t start = batch * batch_size_, size = std::min(batch_size_, train_set_.count - start);
  if (rate_per_batch(config_))
    optimizer_->set_learning_rate(batch_learning_rate(config_, schedule_, epoch, batch, batches_));
  const auto samples = training_batch(config_, train_set_, setup_.norm, {epoch, start}, slice(order, start, size));
  if (batch + 1 < batches_) {  // the next batch's images, fetched into the cache while this one trains
    const std::int64_t next = start + batch_size_;
    data::prefetch_images(train_set_, slice(order, next, std::min(batch_size_, train_set_.count - next)));
  }
  BatchStep step;
  try {
    step = forward_backward(setup_, *optimizer_, samples, config_.train.input_gradient_penalty);
  } catch (const Error& e) {
    if (!anomaly_) throw;
    // Anomaly mode names the op; say where in the run it happened, and what is kept.
    throw Error(fmt::format("{} (anomaly detection, at epoch {}, batch {}; {})", e.what(), epoch, batch + 1, kept()));
  }
  for (const auto& [what, value] : {std::pair{"loss", step.loss}, std::pair{"input-gradient penalty", step.penalty}}) {
    if (!std::isfinite(value)) {
      throw Error(fmt::format("the {} became {} at epoch {}, batch {}; {}. Set "
                              "train.anomaly_detection=true to name the op that produced it",
                              what, value, epoch, batch + 1, kept()));
    }
  }
  optimizer_->step();
  // A NaN or Inf gradient shows in the parameters at once, even when an op downstream hid it from the loss; the
  // updates check what they write, and only then are the parameters scanned, to name the first at fault.
  if (optimizer_->non_finite_written()) require_finite(parameters_, [&] {
    return fmt::format("after the optimizer step of epoch {}, batch {}: a gradient was NaN or Inf; {}", epoch,
                       batch + 1, kept());
  });
  const Tensor predicted = nn::predict(setup_.loss, step.output.detach());
  std::int64_t errors = 0;
  for (std::int64_t i = 0; i < size; ++i) {
    errors += predicted.data<std::int64_t>()[i] != samples.labels.data<std::int64_t>()[i] ? 1 : 0;
  }
  const auto samples_in = static_cast<double>(size);
  progress.batch_done(size, step.loss * samples_in, errors, step.penalty * samples_in);
}

/// Evaluates the model after `epoch`, appends the epoch's line to metrics.jsonl and prints it.
void Trainer::end_epoch(int epoch, double lr, const EpochProgress& progress) {
  const double train_seconds = progress.seconds();
  const auto eval_start = std::chrono::steady_clock::now();
  const Evaluation test = evaluate(*setup_.model, setup_.loss, setup_.map_j, test_set_, setup_.norm);
  const double eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
  nlohmann::json record = {{"epoch", epoch},
                           {"lr", lr},
                           {"train_loss", progress.mean_loss()},
                           {"train_error", progress.error_rate()},
                           {"test_loss", test.loss},
                           {"test_error", test.error},
                           {"seconds", train_seconds},
                           {"eval_seconds", eval_seconds},
                           {"samples_per_second", progress.samples_per_second()}};
  // The mean penalty per training sample, before its weight: train_loss stays the loss alone, comparable with runs
  // without the penalty.
  if (config_.train.input_gradient_penalty > 0) record["train_penalty"] = progress.mean_penalty();
  metrics_text_ += record.dump() + "\n";
  write_file_atomically(metrics_path_, metrics_text_);
  fmt::print("epoch {:>2}/{} lr {:.3g}  train loss {:.4f} error {:.2f}%  test loss {:.4f} error {:.2f}%  {:.1f}s "
             "{:.0f} samples/s\n",
             epoch, config_.train.epochs, lr, progress.mean_loss(), 100 * progress.error_rate(), test.loss,
             100 * test.error, train_seconds, progress.samples_per_second());
  std::fflush(stdout);
  result_.test_error = test.error;
  result_.test_loss = test.loss;
  result_.epochs_completed = epoch;
}

/// Writes a checkpoint after `epochs_done` epochs and `batches_done` batches of the next one; `partial` is that
/// epoch's progress when the checkpoint is taken within it (null at an epoch's end).
void Trainer::save(int epochs_done, std::int64_t batches_done, const EpochProgress* partial) {
  require_finite(contents_.tensors, [&] {
    return fmt::format("{}; not checkpointed, {}",
                       partial ? fmt::format("epoch {}, batch {}", epochs_done + 1, batches_done)
                               : fmt::format("the end of epoch {}", epochs_done),
                       kept());
  });
  contents_.epoch = epochs_done;
  contents_.batches_done = batches_done;
  contents_.epoch_loss_sum = partial ? partial->loss_sum() : 0.0;
  contents_.epoch_errors = partial ? partial->errors() : 0;
  contents_.epoch_penalty_sum = partial ? partial->penalty_sum() : 0.0;
  contents_.optimizer_steps = optimizer_->steps();
  // Within an epoch, the order of its batches is drawn again from its start; at its end, the next is drawn.
  contents_.rng_state = partial ? epoch_start_rng_ : shuffle_.state();
  contents_.batch_size = batch_size_;
  contents_.train_limit = config_.data.train_limit;
  contents_.train_samples = train_set_.count;
  save_checkpoint(checkpoint_path_, contents_);
  have_checkpoint_ = true;
  if (hooks_.after_checkpoint) hooks_.after_checkpoint(epochs_done, batches_done);
}

/// Returns what a fault leaves behind: the last good checkpoint, or none yet.
std::string Trainer::kept() const {
  return have_checkpoint_ ? fmt::format("{} (the last good checkpoint) is kept", checkpoint_path_.string())
                          : std::string("no checkpoint was written yet");
}

/// Writes summary.json; a finished run resumed (killed after its last checkpoint, before it exited) trains
/// nothing, and the summary reports the saved model, evaluated again.
void Trainer::finish() {
  if (first_epoch_ > config_.train.epochs) {
    const Evaluation test = evaluate(*setup_.model, setup_.loss, setup_.map_j, test_set_, setup_.norm);
    result_.test_error = test.error;
    result_.test_loss = test.loss;
    fmt::print("{} already holds epoch {} of {}: nothing left to train (raise train.epochs to continue)\n",
               checkpoint_path_.string(), first_epoch_ - 1, config_.train.epochs);
  }
  const nlohmann::json summary = {{"test_error", result_.test_error},
                                  {"test_loss", result_.test_loss},
                                  {"epochs", result_.epochs_completed},
                                  {"variant", models::variant_name(setup_.variant)},
                                  {"trainable_parameters", setup_.model->trainable_count()},
                                  {"target_error", config_.train.target_error},
                                  {"time_to_target", time_to_target(metrics_text_, config_.train.target_error)}};
  write_file_atomically(out_dir_ / "summary.json", summary.dump(2) + "\n");
}

}  // namespace

TrainResult train(const nlohmann::json& resolved, StartMode mode, const TrainHooks& hooks) {
  const StopRequestScope scope;
  try {
    Trainer trainer(resolved, mode, hooks);
    const TrainResult result = trainer.run();
    if (hooks.at_end) hooks.at_end(result);  // while the trainer holds output.dir's lock
    return result;
  } catch (const StopBeforeTraining& stop) {
    TrainResult result;
    result.stopped_early = true;
    result.trained_nothing = true;
    result.stopped_while = stop.step;
    result.stop_signal = stop_signal();
    return result;
  }
}

TrainResult train(const nlohmann::json& resolved, bool resume, const TrainHooks& hooks) {
  return train(resolved, resume ? StartMode::resume : StartMode::fresh, hooks);
}

}  // namespace ag::app
