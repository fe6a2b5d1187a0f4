#pragma once
/// The files train_lenet leaves in a run folder, read for the report: config.json, summary.json (absent
/// until the run ends) and metrics.jsonl (one line per finished epoch, the whole history after resumes).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace ag::app {

/// One line of metrics.jsonl. Error rates are fractions.
struct EpochMetrics {
  std::int64_t epoch = 0;
  double lr = 0;
  double train_loss = 0;
  double train_error = 0;
  double test_loss = 0;
  double test_error = 0;
  double seconds = 0;
  double samples_per_second = 0;
};

/// What a run folder holds.
struct RunFiles {
  nlohmann::json config;                  ///< config.json: the resolved config the run used
  std::optional<nlohmann::json> summary;  ///< summary.json, when the run has finished
  std::vector<EpochMetrics> metrics;      ///< metrics.jsonl in order (empty before the first epoch ends)
  bool has_checkpoint = false;            ///< checkpoint.bin exists
};

/// Reads the run folder `dir`. Throws ag::Error naming the file (and line) when config.json is missing or
/// any file present is not what train_lenet writes.
RunFiles read_run_files(const std::filesystem::path& dir);

/// Parses one metrics.jsonl line; throws ag::Error naming `where` ("file:line") when a field is missing.
EpochMetrics parse_metrics_line(const std::string& line, const std::string& where);

}  // namespace ag::app
