// The training loop of train_lenet: a Trainer sets a run up from its config, resumes it from a checkpoint when
// asked, runs its epochs batch by batch, checkpoints it and writes its metrics and summary.
#include "apps/train/trainer.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "apps/train/checkpoint.h"
#include "apps/train/evaluation.h"
#include "apps/train/progress.h"
#include "autograd/anomaly.h"
#include "autograd/backward.h"
#include "autograd/parallel.h"

namespace ag::app {
namespace {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

std::atomic<bool> stop_requested{false};

/// The generator that shuffles the training set: a stream of its own, so that the model's
/// initialisation and the order of samples do not depend on each other.
constexpr std::uint64_t kShuffleStream = 0x9e3779b97f4a7c15ull;

/// Writes `text` to `path` through a temporary file and a rename, so readers never see half of it.
void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw Error(fmt::format("cannot write {}", temporary.string()));
  }
  std::filesystem::rename(temporary, path);
}

/// Keeps the metrics lines of epochs <= `epoch` (those a resumed run continues from).
std::string metrics_up_to(const std::filesystem::path& path, std::int64_t epoch) {
  std::ifstream in(path);
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_discarded() && record.value("epoch", std::int64_t{0}) <= epoch) kept += line + "\n";
  }
  return kept;
}

/// Clears a stop request when the trainer that honours it is destroyed, however its run ends: a request that
/// arrives before the run starts (a signal during start-up) is honoured, and one honoured is not carried into
/// the next run.
struct StopRequestReset {
  StopRequestReset() = default;
  StopRequestReset(const StopRequestReset&) = delete;
  StopRequestReset& operator=(const StopRequestReset&) = delete;
  ~StopRequestReset() { stop_requested.store(false); }
};

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
  /// Sets a run up from `resolved`: kernel threads, output folder, data, model, optimizer, schedule, generator.
  Trainer(const nlohmann::json& resolved, const TrainHooks& hooks);
  /// Trains (after restoring the checkpoint in output.dir when `resume`) and returns what the run reports.
  TrainResult run(bool resume);

 private:
  void resume_from_checkpoint();
  bool run_epoch(int epoch);
  void train_batch(int epoch, std::int64_t batch, std::span<const std::int64_t> order, EpochProgress& progress);
  void end_epoch(int epoch, double lr, const EpochProgress& progress);
  void save(int epochs_done, std::int64_t batches_done, const EpochProgress* partial);
  std::string kept() const;
  void finish();

  const nlohmann::json& resolved_;
  const TrainHooks& hooks_;
  const TrainConfig config_;
  const StopRequestReset stop_reset_;
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

Trainer::Trainer(const nlohmann::json& resolved, const TrainHooks& hooks)
    : resolved_(resolved), hooks_(hooks), config_(to_train_config(resolved)) {
  ag::set_num_threads(config_.train.threads);  // results are bitwise the same for any count (autograd/parallel.h)
  out_dir_ = config_.output.dir;
  if (std::error_code ec; !std::filesystem::create_directories(out_dir_, ec) && ec) {
    throw Error(fmt::format("output.dir '{}': cannot create the folder: {}", out_dir_.string(), ec.message()));
  }
  checkpoint_path_ = out_dir_ / "checkpoint.bin";
  metrics_path_ = out_dir_ / "metrics.jsonl";
  train_set_ = load_split(config_, "train");
  test_set_ = load_split(config_, "test");
  setup_ = make_model_setup(config_);
  optimizer_ = make_optimizer(config_, setup_.model->parameters());
  // Weights whose gradient a backward rule computes in blocks (C5, the linear layers) are updated there, each
  // block while it is in the L1 cache; step() updates the rest. The same bits as updating all in step().
  optimizer_->update_in_backward();
  schedule_ = make_schedule(config_);
  shuffle_ = Generator(config_.train.seed ^ kShuffleStream);
  if (config_.train.anomaly_detection) anomaly_.emplace();
  contents_ = checkpoint_contents(config_, setup_, optimizer_.get());
  const auto parameter_count = static_cast<std::ptrdiff_t>(setup_.model->parameters().size());
  parameters_.assign(contents_.tensors.begin(), contents_.tensors.begin() + parameter_count);
  batch_size_ = config_.train.batch_size;
  batches_ = (train_set_.count + batch_size_ - 1) / batch_size_;
}

TrainResult Trainer::run(bool resume) {
  if (resume) resume_from_checkpoint();
  write_file_atomically(out_dir_ / "config.json", resolved_.dump(2) + "\n");
  write_file_atomically(metrics_path_, metrics_text_);
  result_.epochs_completed = first_epoch_ - 1;
  for (int epoch = first_epoch_; epoch <= config_.train.epochs; ++epoch) {
    if (!run_epoch(epoch)) {
      result_.stopped_early = true;
      return result_;
    }
  }
  finish();
  return result_;
}

/// Restores the model, the optimizer, the shuffling generator and the metrics of the checkpoint in output.dir.
void Trainer::resume_from_checkpoint() {
  std::error_code ec;
  if (!std::filesystem::exists(checkpoint_path_, ec)) {
    throw Error(fmt::format("--resume {}: there is no checkpoint.bin to resume from (the run was stopped before "
                            "its first checkpoint); start it again with --config",
                            out_dir_.string()));
  }
  load_checkpoint(checkpoint_path_, contents_);
  if (contents_.batches_done >= batches_) {
    throw Error(fmt::format("checkpoint: {}: stopped after batch {} of epoch {}, but an epoch now has only {} "
                            "batches; were train.batch_size or the data changed since?",
                            checkpoint_path_.string(), contents_.batches_done, contents_.epoch + 1, batches_));
  }
  optimizer_->set_steps(contents_.optimizer_steps);
  shuffle_.set_state(contents_.rng_state);
  first_epoch_ = static_cast<int>(contents_.epoch) + 1;
  resume_batches_ = contents_.batches_done;
  metrics_text_ = metrics_up_to(metrics_path_, contents_.epoch);
  have_checkpoint_ = true;
  fmt::print("resuming {} after epoch {}\n", checkpoint_path_.string(), contents_.epoch);
}

/// Runs epoch `epoch` (1-based) and checkpoints as configured; returns false when a stop request ended the run
/// (after writing a checkpoint).
bool Trainer::run_epoch(int epoch) {
  const double lr = schedule_.lr_at(epoch - 1);
  optimizer_->set_learning_rate(lr);
  // A checkpoint within the epoch stores the generator's state at its start, so the same order is drawn again.
  epoch_start_rng_ = shuffle_.state();
  const std::vector<std::int64_t> order = data::shuffled_indices(train_set_.count, shuffle_);
  EpochProgress progress(epoch, config_.train.epochs, batches_, use_bar(config_.output.progress));
  const std::int64_t first_batch = std::exchange(resume_batches_, 0);
  if (first_batch > 0) {
    progress.restore(first_batch, std::min(first_batch * batch_size_, train_set_.count), contents_.epoch_loss_sum,
                     contents_.epoch_errors);
  }
  const int every_batches = config_.output.checkpoint_every_batches;
  for (std::int64_t b = first_batch; b < batches_; ++b) {
    train_batch(epoch, b, order, progress);
    if (hooks_.after_batch) hooks_.after_batch(epoch, b);
    if (stop_requested.load() && b + 1 < batches_) {
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
  const bool stop = stop_requested.load();  // read once: a stop is either checkpointed here or honoured later
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
  const auto samples = data::make_batch(train_set_, slice(order, start, size), setup_.norm);
  if (batch + 1 < batches_) {  // the next batch's images, fetched into the cache while this one trains
    const std::int64_t next = start + batch_size_;
    data::prefetch_images(train_set_, slice(order, next, std::min(batch_size_, train_set_.count - next)));
  }
  Tensor output, loss;
  double loss_value = 0;
  try {
    output = setup_.model->forward(samples.images);
    loss = nn::compute_loss(setup_.loss, output, samples.labels, setup_.map_j);
    loss_value = loss.item();
    if (std::isfinite(loss_value)) {
      optimizer_->zero_grad();
      loss.backward();
    }
  } catch (const Error& e) {
    if (!anomaly_) throw;
    // Anomaly mode names the op; say where in the run it happened, and what is kept.
    throw Error(fmt::format("{} (anomaly detection, at epoch {}, batch {}; {})", e.what(), epoch, batch + 1, kept()));
  }
  if (!std::isfinite(loss_value)) {
    throw Error(fmt::format("the loss became {} at epoch {}, batch {}; {}. Set "
                            "train.anomaly_detection=true to name the op that produced it",
                            loss_value, epoch, batch + 1, kept()));
  }
  optimizer_->step();
  // A NaN or Inf gradient shows in the parameters at once, even when an op downstream hid it from the loss.
  require_finite(parameters_, [&] {
    return fmt::format("after the optimizer step of epoch {}, batch {}: a gradient was NaN or Inf; {}", epoch,
                       batch + 1, kept());
  });
  const Tensor predicted = nn::predict(setup_.loss, output.detach());
  std::int64_t errors = 0;
  for (std::int64_t i = 0; i < size; ++i) {
    errors += predicted.data<std::int64_t>()[i] != samples.labels.data<std::int64_t>()[i] ? 1 : 0;
  }
  progress.batch_done(size, loss_value * static_cast<double>(size), errors);
}

/// Evaluates the model after `epoch`, appends the epoch's line to metrics.jsonl and prints it.
void Trainer::end_epoch(int epoch, double lr, const EpochProgress& progress) {
  const double train_seconds = progress.seconds();
  const Evaluation test = evaluate(*setup_.model, setup_.loss, setup_.map_j, test_set_, setup_.norm);
  const nlohmann::json record = {{"epoch", epoch},
                                 {"lr", lr},
                                 {"train_loss", progress.mean_loss()},
                                 {"train_error", progress.error_rate()},
                                 {"test_loss", test.loss},
                                 {"test_error", test.error},
                                 {"seconds", train_seconds},
                                 {"samples_per_second", progress.samples_per_second()}};
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
  contents_.optimizer_steps = optimizer_->steps();
  // Within an epoch, the order of its batches is drawn again from its start; at its end, the next is drawn.
  contents_.rng_state = partial ? epoch_start_rng_ : shuffle_.state();
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
                                  {"trainable_parameters", setup_.model->trainable_count()}};
  write_file_atomically(out_dir_ / "summary.json", summary.dump(2) + "\n");
}

}  // namespace

void request_stop() { stop_requested.store(true); }

TrainResult train(const nlohmann::json& resolved, bool resume, const TrainHooks& hooks) {
  Trainer trainer(resolved, hooks);
  return trainer.run(resume);
}

}  // namespace ag::app
