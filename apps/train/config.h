#pragma once
/// Configuration of train_lenet: a schema of dotted keys, JSON config files, --set overrides, typed settings.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ag::app {

/// The exception every configuration error throws; what() names the file or --set, the key, and the problem.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------------------------------------
// The schema: one entry per key.

/// The type of a configuration value.
enum class KeyType { boolean, integer, number, string, choice };

/// One key of the schema: dotted path, type, default, allowed values, one-line documentation.
struct ConfigKey {
  std::string path;                  ///< Dotted path, e.g. "train.optimizer.lr".
  KeyType type = KeyType::string;    ///< The value's type.
  nlohmann::json default_value;      ///< The default (see default_note when it depends on other keys).
  std::vector<std::string> choices;  ///< The allowed strings of a choice key.
  std::optional<double> min;         ///< Lower bound of an integer or number key, if any.
  std::optional<double> max;         ///< Upper bound of an integer or number key, if any.
  bool min_open = false;             ///< True when the lower bound itself is excluded.
  bool max_open = false;             ///< True when the upper bound itself is excluded.
  bool non_empty = false;            ///< True when a string key must not be empty.
  std::string doc;                   ///< One-line meaning.
  std::string default_note;          ///< How the default depends on other keys (empty when it does not).
};

/// Returns the schema: every key, in documentation order.
const std::vector<ConfigKey>& config_schema();

/// Returns the schema entry of a dotted key, or null when there is no such key.
const ConfigKey* find_config_key(std::string_view path);

/// Returns the text "expected ..." that an error message uses for a key, e.g. "an integer in [1, 60000]".
std::string describe_expected(const ConfigKey& key);

// ---------------------------------------------------------------------------------------------------------
// Loading and resolving.

/// Reads the JSON config file at `path`, applies `overrides` ("key.path=value", later ones win) and returns the
/// fully resolved config: every schema key present, defaults filled, "auto" loss and default data dir resolved.
nlohmann::json load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// Like load_config, but from an already parsed document; `source` names it in errors (e.g. the file name).
nlohmann::json resolve_config(const nlohmann::json& document, const std::string& source,
                              const std::vector<std::string>& overrides = {});

/// Returns the resolved config made of the defaults alone.
nlohmann::json default_config();

// ---------------------------------------------------------------------------------------------------------
// Typed settings.

/// model.variant: the paper's network, or the modern ReLU / max-pool / softmax variant.
enum class ModelVariant { lecun1998, modern };
/// model.loss after resolving "auto".
enum class LossKind { map, mle, cross_entropy };
/// data.dataset.
enum class Dataset { mnist, fashion_mnist };
/// train.optimizer.name.
enum class OptimizerKind { sgd, adam };
/// train.schedule.name.
enum class ScheduleKind { constant, paper, step, cosine };
/// output.progress ("auto" = bar on a terminal, lines otherwise).
enum class ProgressMode { automatic, bar, lines };

/// The model.* keys.
struct ModelConfig {
  ModelVariant variant = ModelVariant::lecun1998;  ///< model.variant
  LossKind loss = LossKind::map;                   ///< model.loss, "auto" resolved
  double map_j = 1.0;                              ///< model.map_j: the constant j of the MAP loss (eq. 9)
};

/// The data.* keys.
struct DataConfig {
  Dataset dataset = Dataset::mnist;  ///< data.dataset
  std::string dir = "data/mnist";    ///< data.dir: folder of the four IDX files (raw or .gz)
  std::int64_t train_limit = 0;      ///< data.train_limit: first N training samples, 0 = all
  std::int64_t test_limit = 0;       ///< data.test_limit: first N test samples, 0 = all
};

/// The train.optimizer.* keys.
struct OptimizerConfig {
  OptimizerKind name = OptimizerKind::sgd;  ///< train.optimizer.name
  double lr = 0.01;                         ///< train.optimizer.lr: base learning rate
  double momentum = 0.9;                    ///< train.optimizer.momentum (sgd)
  bool nesterov = false;                    ///< train.optimizer.nesterov (sgd)
  double weight_decay = 0.0;                ///< train.optimizer.weight_decay: coupled L2 (sgd and adam)
  double beta1 = 0.9;                       ///< train.optimizer.beta1 (adam)
  double beta2 = 0.999;                     ///< train.optimizer.beta2 (adam)
  double eps = 1e-8;                        ///< train.optimizer.eps (adam)
};

/// The train.schedule.* keys.
struct ScheduleConfig {
  ScheduleKind name = ScheduleKind::constant;  ///< train.schedule.name
  int step_size = 5;                           ///< train.schedule.step_size (step): epochs per decay
  double gamma = 0.1;                          ///< train.schedule.gamma (step): decay factor
  double min_lr = 0.0;                         ///< train.schedule.min_lr (cosine): final learning rate
};

/// The train.* keys.
struct TrainSettings {
  int epochs = 20;                 ///< train.epochs
  int batch_size = 32;             ///< train.batch_size
  std::uint64_t seed = 1;          ///< train.seed
  int threads = 1;                 ///< train.threads
  bool anomaly_detection = false;  ///< train.anomaly_detection
  OptimizerConfig optimizer;       ///< train.optimizer.*
  ScheduleConfig schedule;         ///< train.schedule.*
};

/// The output.* keys.
struct OutputConfig {
  std::string dir = "runs/lenet5";                  ///< output.dir
  int checkpoint_every = 0;                         ///< output.checkpoint_every: epochs, 0 = only at the end
  int checkpoint_every_batches = 0;                 ///< output.checkpoint_every_batches: also mid-epoch, 0 = never
  ProgressMode progress = ProgressMode::automatic;  ///< output.progress
};

/// The whole configuration as typed fields, mirroring the dotted keys (cfg.train.optimizer.lr).
struct TrainConfig {
  ModelConfig model;    ///< model.*
  DataConfig data;      ///< data.*
  TrainSettings train;  ///< train.*
  OutputConfig output;  ///< output.*
};

/// Validates and resolves `config` (a config document, typically load_config's result) into typed fields.
TrainConfig to_train_config(const nlohmann::json& config);

/// Returns the config value spelling of a variant ("lecun1998", "modern").
std::string_view to_string(ModelVariant value);
/// Returns the config value spelling of a loss ("map", "mle", "cross_entropy").
std::string_view to_string(LossKind value);
/// Returns the config value spelling of a dataset ("mnist", "fashion-mnist").
std::string_view to_string(Dataset value);
/// Returns the config value spelling of an optimizer ("sgd", "adam").
std::string_view to_string(OptimizerKind value);
/// Returns the config value spelling of a schedule ("constant", "paper", "step", "cosine").
std::string_view to_string(ScheduleKind value);
/// Returns the config value spelling of a progress mode ("auto", "bar", "lines").
std::string_view to_string(ProgressMode value);

// ---------------------------------------------------------------------------------------------------------
// Documentation and command line.

/// Returns the Markdown reference of every key (tables per section), as embedded in docs/config.md.
std::string config_docs_markdown();

/// The parsed command line of train_lenet.
struct CommandLine {
  std::string config_path;             ///< --config FILE (may be empty with --resume)
  std::vector<std::string> overrides;  ///< each --set key.path=value, in order
  std::string resume_dir;              ///< --resume DIR: continue the run in DIR (empty when not resuming)
  bool print_config = false;           ///< --print-config: print the resolved config and exit
  bool help = false;                   ///< --help / -h
};

/// Parses `train_lenet (--config FILE | --resume DIR) [--set key.path=value ...] [--print-config] [--help]`.
CommandLine parse_command_line(int argc, const char* const argv[]);

/// Returns the usage text of train_lenet, naming `program` as the executable.
std::string usage_text(std::string_view program);

}  // namespace ag::app
