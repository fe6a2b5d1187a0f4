#include "apps/train/trainer.h"

#include <fmt/format.h>

#include <atomic>
#include <fstream>

#include "apps/train/checkpoint.h"
#include "apps/train/evaluation.h"
#include "apps/train/progress.h"
#include "autograd/anomaly.h"
#include "autograd/backward.h"
#include "autograd/parallel.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"
#include "nn/schedule.h"

namespace ag::app {

namespace {

std::atomic<bool> stop_requested{false};

/// The generator that shuffles the training set: a stream of its own, so that the model's
/// initialisation and the order of samples do not depend on each other.
constexpr std::uint64_t kShuffleStream = 0x9e3779b97f4a7c15ull;

nn::Schedule make_schedule(const TrainConfig& config) {
  nn::Schedule s;
  s.kind = nn::parse_schedule(to_string(config.train.schedule.name));
  s.base_lr = config.train.optimizer.lr;
  s.step_size = config.train.schedule.step_size;
  s.gamma = config.train.schedule.gamma;
  s.min_lr = config.train.schedule.min_lr;
  s.total_epochs = config.train.epochs;
  return s;
}

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

/// Clears a stop request when train() returns, however it returns: a request that arrives before train()
/// starts (a signal during start-up) is honoured, and one honoured is not carried into the next call.
struct StopRequestReset {
  StopRequestReset() = default;
  StopRequestReset(const StopRequestReset&) = delete;
  StopRequestReset& operator=(const StopRequestReset&) = delete;
  ~StopRequestReset() { stop_requested.store(false); }
};

/// Throws when a parameter or optimizer state tensor holds NaN or Inf, naming it and, from `context()`, when
/// it was found and what is kept: a broken model is never written over the last good checkpoint.
template <class Context>
void require_finite(const std::vector<std::pair<std::string, Tensor>>& tensors, const Context& context) {
  for (const auto& [name, t] : tensors) {
    try {
      check_finite(name, "training", t);
    } catch (const Error& e) {
      throw Error(fmt::format("{} ({}). Set train.anomaly_detection=true to name the op that produced it", e.what(),
                              context()));
    }
  }
}

bool use_bar(ProgressMode mode) { return mode == ProgressMode::bar || (mode == ProgressMode::automatic && is_terminal(stdout)); }

}  // namespace

void request_stop() { stop_requested.store(true); }

ModelSetup make_model_setup(const TrainConfig& config) {
  ModelSetup setup{models::parse_variant(to_string(config.model.variant)), nn::parse_loss(to_string(config.model.loss)),
                   config.model.map_j, data::Normalisation::paper(), nullptr};
  if (setup.variant == models::Variant::modern)
    setup.norm = data::Normalisation::modern(config.data.dataset == Dataset::fashion_mnist ? data::kFashionMnistStats
                                                                                           : data::kMnistStats);
  Generator init(config.train.seed);
  setup.model = models::make_model(setup.variant, init);
  return setup;
}

std::unique_ptr<nn::Optimizer> make_optimizer(const TrainConfig& config, std::vector<nn::Parameter> parameters) {
  const auto& o = config.train.optimizer;
  if (o.name == OptimizerKind::adam)
    return std::make_unique<nn::Adam>(std::move(parameters), nn::AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay});
  return std::make_unique<nn::Sgd>(std::move(parameters), nn::SgdOptions{o.lr, o.momentum, o.nesterov, o.weight_decay});
}

data::Dataset load_split(const TrainConfig& config, std::string_view split) {
  const std::int64_t limit = split == "train" ? config.data.train_limit : config.data.test_limit;
  data::Dataset set =
      data::load_mnist_split(config.data.dir, split, limit > 0 ? std::optional<std::int64_t>(limit) : std::nullopt);
  if (set.count == 0)
    fail("load_split", "'{}': the {} split holds no samples; training and evaluation need at least one",
         config.data.dir, split);
  return set;
}

TrainResult train(const nlohmann::json& resolved, bool resume, const TrainHooks& hooks) {
  const TrainConfig config = to_train_config(resolved);
  ag::set_num_threads(config.train.threads);  // results are bitwise the same for any count (autograd/parallel.h)
  const StopRequestReset stop_reset;
  const std::filesystem::path out_dir = config.output.dir;
  if (std::error_code ec; !std::filesystem::create_directories(out_dir, ec) && ec)
    throw Error(fmt::format("output.dir '{}': cannot create the folder: {}", out_dir.string(), ec.message()));
  const std::filesystem::path checkpoint_path = out_dir / "checkpoint.bin";
  const std::filesystem::path metrics_path = out_dir / "metrics.jsonl";

  const data::Dataset train_set = load_split(config, "train");
  const data::Dataset test_set = load_split(config, "test");
  ModelSetup setup = make_model_setup(config);
  auto optimizer = make_optimizer(config, setup.model->parameters());
  // Weights whose gradient a backward rule computes in blocks (C5, the linear layers) are updated there, each
  // block while it is in the L1 cache; step() updates the rest. The same bits as updating all in step().
  optimizer->update_in_backward();
  const nn::Schedule schedule = make_schedule(config);
  Generator shuffle(config.train.seed ^ kShuffleStream);
  std::optional<AnomalyModeGuard> anomaly;
  if (config.train.anomaly_detection) anomaly.emplace();

  // Everything that a checkpoint saves and restores: the model's parameters and the optimizer's state.
  CheckpointContents contents;
  contents.variant = models::variant_name(setup.variant);
  contents.optimizer = to_string(config.train.optimizer.name);
  for (const auto& p : setup.model->parameters()) contents.tensors.emplace_back(p.name, p.value);
  const std::vector<std::pair<std::string, Tensor>> parameters = contents.tensors;
  for (auto& entry : optimizer->state()) contents.tensors.push_back(entry);

  const std::int64_t batch_size = config.train.batch_size;
  const std::int64_t batches = (train_set.count + batch_size - 1) / batch_size;
  int first_epoch = 1;
  std::string metrics_text;
  if (resume) {
    std::error_code ec;
    if (!std::filesystem::exists(checkpoint_path, ec))
      throw Error(fmt::format("--resume {}: there is no checkpoint.bin to resume from (the run was stopped before "
                              "its first checkpoint); start it again with --config",
                              out_dir.string()));
    load_checkpoint(checkpoint_path, contents);
    if (contents.batches_done >= batches)
      throw Error(fmt::format("checkpoint: {}: stopped after batch {} of epoch {}, but an epoch now has only {} "
                              "batches; were train.batch_size or the data changed since?",
                              checkpoint_path.string(), contents.batches_done, contents.epoch + 1, batches));
    optimizer->set_steps(contents.optimizer_steps);
    shuffle.set_state(contents.rng_state);
    first_epoch = static_cast<int>(contents.epoch) + 1;
    metrics_text = metrics_up_to(metrics_path, contents.epoch);
    fmt::print("resuming {} after epoch {}\n", checkpoint_path.string(), contents.epoch);
  }
  write_file_atomically(out_dir / "config.json", resolved.dump(2) + "\n");
  write_file_atomically(metrics_path, metrics_text);

  // A checkpoint is taken at an epoch's end, or after a batch when a stop is requested. It stores the
  // shuffling generator's state at the start of the next batch's epoch, so the same order is drawn again.
  std::string epoch_start_rng = shuffle.state();
  bool have_checkpoint = resume;
  const auto kept = [&] {
    return have_checkpoint ? fmt::format("{} (the last good checkpoint) is kept", checkpoint_path.string())
                           : std::string("no checkpoint was written yet");
  };
  const auto save = [&](int epochs_done, std::int64_t batches_done, const EpochProgress* partial) {
    require_finite(contents.tensors, [&] {
      return fmt::format("{}; not checkpointed, {}",
                         partial ? fmt::format("epoch {}, batch {}", epochs_done + 1, batches_done)
                                 : fmt::format("the end of epoch {}", epochs_done),
                         kept());
    });
    contents.epoch = epochs_done;
    contents.batches_done = batches_done;
    contents.epoch_loss_sum = partial ? partial->loss_sum() : 0.0;
    contents.epoch_errors = partial ? partial->errors() : 0;
    contents.optimizer_steps = optimizer->steps();
    contents.rng_state = partial ? epoch_start_rng : shuffle.state();
    save_checkpoint(checkpoint_path, contents);
    have_checkpoint = true;
    if (hooks.after_checkpoint) hooks.after_checkpoint(epochs_done, batches_done);
  };

  TrainResult result;
  result.epochs_completed = first_epoch - 1;
  for (int epoch = first_epoch; epoch <= config.train.epochs; ++epoch) {
    const double lr = schedule.lr_at(epoch - 1);
    optimizer->set_learning_rate(lr);
    epoch_start_rng = shuffle.state();
    const auto order = data::shuffled_indices(train_set.count, shuffle);
    EpochProgress progress(epoch, config.train.epochs, batches, use_bar(config.output.progress));
    std::int64_t first_batch = 0;
    if (resume && epoch == first_epoch && contents.batches_done > 0) {
      first_batch = contents.batches_done;
      progress.restore(first_batch, std::min(first_batch * batch_size, train_set.count), contents.epoch_loss_sum,
                       contents.epoch_errors);
    }
    for (std::int64_t b = first_batch; b < batches; ++b) {
      const std::int64_t start = b * batch_size, size = std::min(batch_size, train_set.count - start);
      const auto batch = data::make_batch(train_set, std::span(order).subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(size)), setup.norm);
      if (b + 1 < batches) {  // the next batch's images, fetched into the cache while this one trains
        const std::int64_t next = start + batch_size;
        data::prefetch_images(train_set, std::span(order).subspan(static_cast<std::size_t>(next),
                                                                  static_cast<std::size_t>(std::min(batch_size, train_set.count - next))));
      }
      Tensor output, loss;
      double loss_value = 0;
      try {
        output = setup.model->forward(batch.images);
        loss = nn::compute_loss(setup.loss, output, batch.labels, setup.map_j);
        loss_value = loss.item();
        if (std::isfinite(loss_value)) {
          optimizer->zero_grad();
          loss.backward();
        }
      } catch (const Error& e) {
        if (!anomaly) throw;
        // Anomaly mode names the op; say where in the run it happened, and what is kept.
        throw Error(fmt::format("{} (anomaly detection, at epoch {}, batch {}; {})", e.what(), epoch, b + 1, kept()));
      }
      if (!std::isfinite(loss_value))
        throw Error(fmt::format("the loss became {} at epoch {}, batch {}; {}. Set "
                                "train.anomaly_detection=true to name the op that produced it",
                                loss_value, epoch, b + 1, kept()));
      optimizer->step();
      // A NaN or Inf gradient shows in the parameters at once, even when an op downstream hid it from the loss.
      require_finite(parameters, [&] {
        return fmt::format("after the optimizer step of epoch {}, batch {}: a gradient was NaN or Inf; {}", epoch,
                           b + 1, kept());
      });
      const Tensor predicted = nn::predict(setup.loss, output.detach());
      std::int64_t errors = 0;
      for (std::int64_t i = 0; i < size; ++i)
        errors += predicted.data<std::int64_t>()[i] != batch.labels.data<std::int64_t>()[i] ? 1 : 0;
      progress.batch_done(size, loss_value * static_cast<double>(size), errors);
      if (hooks.after_batch) hooks.after_batch(epoch, b);
      if (stop_requested.load() && b + 1 < batches) {
        progress.finish();
        save(epoch - 1, b + 1, &progress);
        fmt::print("stopped after batch {} of epoch {}; {} holds the state, --resume continues\n", b + 1, epoch,
                   checkpoint_path.string());
        result.stopped_early = true;
        return result;
      }
      if (config.output.checkpoint_every_batches > 0 && (b + 1) % config.output.checkpoint_every_batches == 0 &&
          b + 1 < batches)
        save(epoch - 1, b + 1, &progress);  // a periodic mid-epoch checkpoint: a kill loses little work
    }
    progress.finish();
    const double train_seconds = progress.seconds();
    const Evaluation test = evaluate(*setup.model, setup.loss, setup.map_j, test_set, setup.norm);
    const nlohmann::json record = {{"epoch", epoch},
                                   {"lr", lr},
                                   {"train_loss", progress.mean_loss()},
                                   {"train_error", progress.error_rate()},
                                   {"test_loss", test.loss},
                                   {"test_error", test.error},
                                   {"seconds", train_seconds},
                                   {"samples_per_second", progress.samples_per_second()}};
    metrics_text += record.dump() + "\n";
    write_file_atomically(metrics_path, metrics_text);
    fmt::print("epoch {:>2}/{} lr {:.3g}  train loss {:.4f} error {:.2f}%  test loss {:.4f} error {:.2f}%  {:.1f}s "
               "{:.0f} samples/s\n",
               epoch, config.train.epochs, lr, progress.mean_loss(), 100 * progress.error_rate(), test.loss,
               100 * test.error, train_seconds, progress.samples_per_second());
    std::fflush(stdout);
    result.test_error = test.error;
    result.test_loss = test.loss;
    result.epochs_completed = epoch;
    const bool last = epoch == config.train.epochs;
    if (last || stop_requested.load() ||
        (config.output.checkpoint_every > 0 && epoch % config.output.checkpoint_every == 0))
      save(epoch, 0, nullptr);
    if (stop_requested.load() && !last) {
      fmt::print("stopped after epoch {}; {} holds the state, --resume continues\n", epoch, checkpoint_path.string());
      result.stopped_early = true;
      return result;
    }
  }
  if (first_epoch > config.train.epochs) {
    // A finished run resumed (e.g. killed after its last checkpoint, before it exited): nothing to train;
    // the summary reports the saved model, evaluated again.
    const Evaluation test = evaluate(*setup.model, setup.loss, setup.map_j, test_set, setup.norm);
    result.test_error = test.error;
    result.test_loss = test.loss;
    fmt::print("{} already holds epoch {} of {}: nothing left to train (raise train.epochs to continue)\n",
               checkpoint_path.string(), first_epoch - 1, config.train.epochs);
  }
  const nlohmann::json summary = {{"test_error", result.test_error},
                                  {"test_loss", result.test_loss},
                                  {"epochs", result.epochs_completed},
                                  {"variant", models::variant_name(setup.variant)},
                                  {"trainable_parameters", setup.model->trainable_count()}};
  write_file_atomically(out_dir / "summary.json", summary.dump(2) + "\n");
  return result;
}

}  // namespace ag::app
