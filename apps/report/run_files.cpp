#include "apps/report/run_files.h"

#include <cmath>
#include <sstream>

#include "apps/train/resume.h"
#include "autograd/error.h"
#include "nn/data/input_file.h"

namespace ag::app {

namespace {

// config.json and summary.json hold a few kB; a larger file than this is not one train_lenet wrote.
constexpr std::uint64_t kMaxJsonFileBytes = std::uint64_t{4} << 20;

// The whole of a run's file, which must be a regular file of at most `max_bytes` (a FIFO or a device is refused
// before a byte is read). Throws ag::Error naming the file, the fault and the system's reason.
std::string read_run_file(const std::filesystem::path& path, std::string_view noun, std::uint64_t max_bytes) {
  try {
    data::InputFile file(path, noun, max_bytes, fmt::format("a run's {} may hold", noun));
    return file.read_all();
  } catch (const data::InputFileError& e) {
    throw Error(fmt::format("report: {}: {}", path.string(), e.what()));
  }
}

nlohmann::json read_json_file(const std::filesystem::path& path, std::string_view noun) {
  const auto doc = nlohmann::json::parse(read_run_file(path, noun, kMaxJsonFileBytes), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw Error(fmt::format("report: {}: not a JSON object", path.string()));
  return doc;
}

// True when `path` names something, a broken symbolic link included (reading it then says what is wrong).
bool present(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

// A number too large for a double ("1e400") is read as infinite: refused with the rest.
double number_field(const nlohmann::json& record, const char* key, const std::string& where) {
  const auto it = record.find(key);
  if (it == record.end() || !it->is_number() || !std::isfinite(it->get<double>()))
    throw Error(fmt::format("report: {}: the field \"{}\" is missing or not a finite number", where, key));
  return it->get<double>();
}

// The epoch number of a line: a whole number in [1, 1000], the most train.epochs allows, so that it converts.
std::int64_t epoch_field(const nlohmann::json& record, const std::string& where) {
  const double epoch = number_field(record, "epoch", where);
  if (epoch < 1 || epoch > 1000 || epoch != std::floor(epoch))
    throw Error(fmt::format("report: {}: the field \"epoch\" is {}; an epoch is a whole number from 1 to 1000", where,
                            epoch));
  return static_cast<std::int64_t>(epoch);
}

}  // namespace

EpochMetrics parse_metrics_line(const std::string& line, const std::string& where) {
  const auto record = nlohmann::json::parse(line, nullptr, false);
  if (record.is_discarded() || !record.is_object()) throw Error(fmt::format("report: {}: not a JSON object", where));
  EpochMetrics m;
  m.epoch = epoch_field(record, where);
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
  const std::filesystem::file_status status = std::filesystem::status(dir, ec);
  if (!std::filesystem::exists(status))
    throw Error(fmt::format("report: {}: {}", dir.string(),
                            ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "no such folder"));
  if (!std::filesystem::is_directory(status)) throw Error(fmt::format("report: {}: not a folder", dir.string()));
  if (!present(dir / "config.json"))
    throw Error(fmt::format("report: {}: no config.json; not the output.dir of a train_lenet run", dir.string()));
  RunFiles files;
  files.config = read_json_file(dir / "config.json", "config file");
  if (present(dir / "summary.json")) files.summary = read_json_file(dir / "summary.json", "summary file");
  files.has_checkpoint = present(dir / "checkpoint.bin");
  const std::filesystem::path metrics = dir / "metrics.jsonl";
  if (!present(metrics)) return files;
  std::istringstream in(read_run_file(metrics, "metrics file", kMaxMetricsFileBytes));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number)
    if (!line.empty()) files.metrics.push_back(parse_metrics_line(line, fmt::format("{}:{}", metrics.string(), number)));
  return files;
}

}  // namespace ag::app
