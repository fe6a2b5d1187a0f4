// The schema of train_lenet's configuration: every key, its type, default, allowed values and meaning, and the
// look-ups on it. docs/config.md embeds config_docs_markdown() (config_docs.cpp), generated from this table;
// tests/apps/test_config.cpp checks that it is up to date.
#include "apps/train/config_schema.h"

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <set>

namespace ag::app {
namespace {

using nlohmann::json;

constexpr double kNoMax = std::numeric_limits<double>::infinity();

ConfigKey boolean_key(std::string path, bool fallback, std::string doc) {
  ConfigKey key;
  key.path = std::move(path);
  key.type = KeyType::boolean;
  key.default_value = fallback;
  key.doc = std::move(doc);
  return key;
}

// An integer key in [min, max] (max = kNoMax: no upper bound).
ConfigKey integer_key(std::string path, std::int64_t fallback, double min, double max, std::string doc) {
  ConfigKey key;
  key.path = std::move(path);
  key.type = KeyType::integer;
  key.default_value = fallback;
  key.min = min;
  if (max != kNoMax) key.max = max;
  key.doc = std::move(doc);
  return key;
}

// A number key between min and max, each bound included unless marked open (max = kNoMax: no upper bound).
ConfigKey number_key(std::string path, double fallback, double min, bool min_open, double max, bool max_open,
                     std::string doc) {
  ConfigKey key;
  key.path = std::move(path);
  key.type = KeyType::number;
  key.default_value = fallback;
  key.min = min;
  key.min_open = min_open;
  if (max != kNoMax) {
    key.max = max;
    key.max_open = max_open;
  }
  key.doc = std::move(doc);
  return key;
}

ConfigKey string_key(std::string path, std::string fallback, std::string doc) {
  ConfigKey key;
  key.path = std::move(path);
  key.type = KeyType::string;
  key.default_value = std::move(fallback);
  key.non_empty = true;
  key.doc = std::move(doc);
  return key;
}

ConfigKey choice_key(std::string path, std::string fallback, std::initializer_list<std::string> choices,
                     std::string doc) {
  ConfigKey key;
  key.path = std::move(path);
  key.type = KeyType::choice;
  key.default_value = std::move(fallback);
  key.choices = choices;
  key.doc = std::move(doc);
  return key;
}

ConfigKey with_note(ConfigKey key, std::string note) {
  key.default_note = std::move(note);
  return key;
}

std::vector<ConfigKey> make_schema() {
  constexpr bool open = true;
  constexpr bool closed = false;
  return {
      // model
      choice_key("model.variant", "lecun1998", {"lecun1998", "modern"},
                 "Network: `lecun1998` = the paper's LeNet-5 (scaled tanh, trainable subsampling, C3 table, RBF "
                 "output); `modern` = the modernised LeNet-5 (ReLU, max-pooling, 10 linear output scores)."),
      with_note(choice_key("model.loss", "auto", {"auto", "map", "mle", "cross_entropy"},
                           "Loss: `map` = eq. 9 (RBF distances plus the rubbish class j), `mle` = eq. 8 (distance "
                           "to the correct class), both for `lecun1998`; `cross_entropy` = softmax cross-entropy "
                           "on the logits of `modern`."),
                "`auto` resolves to `map` for `lecun1998`, `cross_entropy` for `modern`"),
      number_key("model.map_j", 1.0, 0, open, kNoMax, open,
                 "The constant j of the MAP loss (eq. 9): the rubbish class adds `exp(-j)` to the partition sum. "
                 "Not stated in the paper; 1.0 is this project's choice. Used by `map` only."),
      choice_key("model.input", "padded_32", {"padded_32", "zero_padded_28"},
                 "lecun1998's input: `padded_32` = the 28x28 digit centred in 32x32, padded with the background "
                 "value (the paper); `zero_padded_28` = 28x28, C1 zero-padding it by 2. See \"Readings of the "
                 "paper\"."),
      choice_key("model.subsampling", "sum", {"sum", "average"},
                 "lecun1998's S2 and S4: the coefficient times the 2x2 window's `sum` (the paper) or its "
                 "`average`."),
      choice_key("model.subsampling_squash", "scaled_tanh", {"scaled_tanh", "sigmoid"},
                 "lecun1998's squashing after S2 and S4: the paper's `scaled_tanh` 1.7159 tanh(2a/3), or the "
                 "logistic `sigmoid`."),
      choice_key("model.codes", "bitmaps", {"bitmaps", "random"},
                 "lecun1998's RBF centres: the stylised 7x12 digit `bitmaps` (the paper), or `random` +-1 drawn "
                 "from train.seed."),
      choice_key("model.init", "lecun1998", {"lecun1998", "lecun_sqrt"},
                 "lecun1998's initial weights: uniform in +-2.4/F, F the unit's fan-in (`lecun1998`, the paper's "
                 "text), or in +-1/sqrt(F) (`lecun_sqrt`, as EBLearn initialises LeNet-5; with it SDLM trains at "
                 "the paper's mu = 0.02). Biases are +-2.4/F in both."),
      // data
      choice_key("data.dataset", "mnist", {"mnist", "fashion-mnist"}, "Dataset: MNIST digits or Fashion-MNIST."),
      with_note(string_key("data.dir", "data/mnist",
                           "Folder holding the four IDX files (raw or .gz); relative paths are taken from the "
                           "working directory."),
                "`data/mnist` for `mnist` (see scripts/fetch_mnist.sh), `/usr/share/datasets/fashion-mnist` for "
                "`fashion-mnist` (Debian package dataset-fashion-mnist)"),
      integer_key("data.train_limit", 0, 0, 60000, "Use only the first N training samples; 0 = all 60,000."),
      integer_key("data.test_limit", 0, 0, 10000, "Use only the first N test samples; 0 = all 10,000."),
      boolean_key("data.distortions.enabled", false,
                  "Distort each training image by its own random planar affine map (the paper's enlarged training "
                  "set, section III.C), drawn from train.seed and the sample's place in the run: the same images "
                  "for any thread count and on resume. Test images are never distorted."),
      number_key("data.distortions.translate", 2.0, 0, closed, 8, closed,
                 "Largest shift along each axis, in pixels (MNIST digits sit in a 20x20 box with 4-pixel margins)."),
      number_key("data.distortions.scale", 0.1, 0, closed, 0.5, closed,
                 "Largest relative change of size: the image is scaled by 1 + u, u uniform in [-scale, scale]."),
      number_key("data.distortions.squeeze", 0.1, 0, closed, 0.5, closed,
                 "Largest relative change of aspect: widths by 1 + u and heights by 1 / (1 + u)."),
      number_key("data.distortions.shear", 0.15, 0, closed, 1, closed,
                 "Largest horizontal shear: each row moves by u times its distance from the centre."),
      // train
      integer_key("train.epochs", 20, 1, 1000, "Passes over the training set."),
      integer_key("train.batch_size", 32, 1, 60000,
                  "Samples per update; the loss is the mean over the batch. The last batch may be smaller."),
      integer_key("train.seed", 1, 0, kNoMax,
                  "Seed of the one generator behind initialisation and shuffling: equal seeds repeat a run."),
      integer_key("train.threads", 1, 1, 64, "Worker threads for the tensor kernels."),
      boolean_key("train.anomaly_detection", false,
                  "Check every op result and gradient for NaN/Inf and stop at the first one (slow)."),
      number_key("train.target_error", 0.01, 0, closed, 1, closed,
                 "The test error (a fraction) whose first reaching summary.json reports as `time_to_target`: the "
                 "seconds of training (evaluations, start-up and data loading excluded) up to the end of the first "
                 "epoch whose test error is at most this."),
      number_key("train.input_gradient_penalty", 0.0, 0, closed, kNoMax, open,
                 "Double back-propagation (Drucker and LeCun, 1992): each step minimises `loss + w*P`, where "
                 "`P = (1/N) sum_n |dE_n/dx_n|^2` is the mean squared norm of each sample's loss gradient with "
                 "respect to its input image; w is this value, 0 = off. A step costs 4 to 7 times a plain one."),
      choice_key("train.optimizer.name", "sgd", {"sgd", "adam", "sdlm"},
                 "Optimizer: `sgd` (with optional momentum / Nesterov), `adam`, or `sdlm` (the paper's stochastic "
                 "diagonal Levenberg-Marquardt: `w_k -= lr/(mu + h_kk) * g_k`, h_kk the Gauss-Newton diagonal)."),
      number_key("train.optimizer.lr", 0.01, 0, open, kNoMax, open,
                 "Base learning rate; train.schedule scales it per epoch."),
      number_key("train.optimizer.momentum", 0.9, 0, closed, 1, open,
                 "SGD momentum mu: `v = mu*v + g; w -= lr*v` (0 = plain SGD). sgd only."),
      boolean_key("train.optimizer.nesterov", false,
                  "Nesterov momentum: `w -= lr*(g + mu*v)`. sgd only; needs momentum > 0."),
      number_key("train.optimizer.weight_decay", 0.0, 0, closed, kNoMax, open,
                 "L2 penalty: `weight_decay*w` is added to every gradient (coupled, for sgd, adam and sdlm alike)."),
      number_key("train.optimizer.beta1", 0.9, 0, closed, 1, open,
                 "Adam decay rate of the first-moment estimate. adam only."),
      number_key("train.optimizer.beta2", 0.999, 0, closed, 1, open,
                 "Adam decay rate of the second-moment estimate. adam only."),
      number_key("train.optimizer.eps", 1e-8, 0, open, kNoMax, open,
                 "Adam's term added to the root of the second moment. adam only."),
      number_key("train.optimizer.mu", 0.02, 0, open, kNoMax, open,
                 "SDLM's damping mu in the step `lr/(mu + h_kk)`: bounds it where the curvature is near 0 (the "
                 "paper: 0.02). sdlm only."),
      integer_key("train.optimizer.hessian_samples", 500, 1, 60000,
                  "SDLM: the training samples (drawn from train.seed, anew before each epoch; all of them when the "
                  "set is smaller) whose mean Gauss-Newton diagonal is h_kk for the epoch (the paper: 500). sdlm "
                  "only."),
      choice_key("train.schedule.name", "constant", {"constant", "paper", "step", "cosine"},
                 "Learning-rate schedule over epochs (lr fixed within an epoch unless per_batch): see "
                 "\"Learning-rate schedules\"."),
      integer_key("train.schedule.step_size", 5, 1, 1000, "step: multiply the rate by gamma every step_size epochs."),
      number_key("train.schedule.gamma", 0.1, 0, open, 1, closed, "step: the decay factor."),
      number_key("train.schedule.min_lr", 0.0, 0, closed, kNoMax, open,
                 "cosine: the rate approached at the end; must not exceed train.optimizer.lr."),
      boolean_key("train.schedule.per_batch", false,
                  "Set the rate at every batch, from the fraction of training done (a smooth cosine), not once "
                  "per epoch."),
      number_key("train.schedule.warmup_epochs", 0.0, 0, closed, 1000, closed,
                 "Raise the rate linearly from 0 over this many epochs first (set at every batch; a cosine "
                 "starts after it); must be less than train.epochs."),
      // output
      string_key("output.dir", "runs/lenet5",
                 "Folder for the run: resolved config, log, metrics and checkpoints (created if missing)."),
      integer_key("output.checkpoint_every", 0, 0, 1000,
                  "Write a checkpoint every N epochs, and always after the last; 0 = only after the last."),
      integer_key("output.checkpoint_every_batches", 0, 0, 1000000,
                  "Also write a checkpoint every N batches within an epoch, so that a kill loses at most N "
                  "batches of work; 0 = only at the ends of epochs."),
      choice_key("output.progress", "auto", {"auto", "bar", "lines"},
                 "Progress display: `bar` redraws one line, `lines` prints a line per report, `auto` = `bar` "
                 "on a terminal, `lines` otherwise."),
  };
}

// The sections: every proper prefix of a key ("train", "train.optimizer", ...).
const std::set<std::string, std::less<>>& config_sections() {
  static const std::set<std::string, std::less<>> sections = [] {
    std::set<std::string, std::less<>> result;
    for (const ConfigKey& key : config_schema()) {
      for (std::size_t dot = key.path.find('.'); dot != std::string::npos; dot = key.path.find('.', dot + 1)) {
        result.insert(key.path.substr(0, dot));
      }
    }
    return result;
  }();
  return sections;
}

std::string format_bound(const ConfigKey& key, double bound) {
  if (key.type == KeyType::integer) return fmt::format("{}", static_cast<std::int64_t>(bound));
  return fmt::format("{}", bound);
}

// The values as JSON strings, comma-separated: "a", "b".
std::string quoted_list(const std::vector<std::string>& values) {
  std::string text;
  for (const std::string& value : values) {
    if (!text.empty()) text += ", ";
    text += json(value).dump();
  }
  return text;
}

}  // namespace

const std::vector<ConfigKey>& config_schema() {
  static const std::vector<ConfigKey> schema = make_schema();
  return schema;
}

const ConfigKey* find_config_key(std::string_view path) {
  for (const ConfigKey& key : config_schema()) {
    if (key.path == path) return &key;
  }
  return nullptr;
}

bool is_config_section(std::string_view path) { return config_sections().count(path) != 0; }

std::vector<std::string> config_paths(bool with_sections) {
  std::vector<std::string> paths;
  for (const ConfigKey& key : config_schema()) paths.push_back(key.path);
  if (with_sections) paths.insert(paths.end(), config_sections().begin(), config_sections().end());
  return paths;
}

std::string describe_range(const ConfigKey& key) {
  if (key.min && key.max) {
    return fmt::format("{}{}, {}{}", key.min_open ? '(' : '[', format_bound(key, *key.min),
                       format_bound(key, *key.max), key.max_open ? ')' : ']');
  }
  if (key.min) return fmt::format("{} {}", key.min_open ? ">" : ">=", format_bound(key, *key.min));
  if (key.max) return fmt::format("{} {}", key.max_open ? "<" : "<=", format_bound(key, *key.max));
  return {};
}

std::string describe_expected(const ConfigKey& key) {
  const std::string range = describe_range(key);
  const std::string in = range.empty() ? "" : (range[0] == '[' || range[0] == '(' ? " in " : " ") + range;
  switch (key.type) {
    case KeyType::boolean: return "true or false";
    case KeyType::integer: return "an integer" + in;
    case KeyType::number: return "a number" + in;
    case KeyType::string: return key.non_empty ? "a non-empty string" : "a string";
    case KeyType::choice: return "one of " + quoted_list(key.choices);
  }
  return {};
}

}  // namespace ag::app
