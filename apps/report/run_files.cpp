#include "apps/report/run_files.h"

#include <fstream>

#include "autograd/error.h"

namespace ag::app {

namespace {

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("report: {}: cannot open the file", path.string()));
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw Error(fmt::format("report: {}: not a JSON object", path.string()));
  return doc;
}

double number_field(const nlohmann::json& record, const char* key, const std::string& where) {
  const auto it = record.find(key);
  if (it == record.end() || !it->is_number())
    throw Error(fmt::format("report: {}: the field \"{}\" is missing or not a number", where, key));
  return it->get<double>();
}

}  // namespace

EpochMetrics parse_metrics_line(const std::string& line, const std::string& where) {
  const auto record = nlohmann::json::parse(line, nullptr, false);
  if (record.is_discarded() || !record.is_object()) throw Error(fmt::format("report: {}: not a JSON object", where));
  EpochMetrics m;
  m.epoch = static_cast<std::int64_t>(number_field(record, "epoch", where));
  m.lr = number_field(record, "lr", where);
  m.train_loss = number_field(record, "train_loss", where);
  m.train_error = number_field(record, "train_error", where);
  m.test_loss = number_field(record, "test_loss", where);
  m.test_error = number_field(record, "test_error", where);
  m.seconds = number_field(record, "seconds", where);
  m.samples_per_second = number_field(record, "samples_per_second", where);
  return m;
}

RunFiles read_run_files(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw Error(fmt::format("report: {}: no such folder", dir.string()));
  if (!std::filesystem::exists(dir / "config.json", ec))
    throw Error(fmt::format("report: {}: no config.json; not the output.dir of a train_lenet run", dir.string()));
  RunFiles files;
  files.config = read_json_file(dir / "config.json");
  if (std::filesystem::exists(dir / "summary.json", ec)) files.summary = read_json_file(dir / "summary.json");
  files.has_checkpoint = std::filesystem::exists(dir / "checkpoint.bin", ec);
  std::ifstream in(dir / "metrics.jsonl");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number)
    if (!line.empty())
      files.metrics.push_back(parse_metrics_line(line, fmt::format("{}:{}", (dir / "metrics.jsonl").string(), number)));
  return files;
}

}  // namespace ag::app
