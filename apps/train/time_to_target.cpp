#include "apps/train/time_to_target.h"

#include <sstream>

namespace ag::app {

nlohmann::json time_to_target(const std::string& metrics, double target) {
  std::istringstream lines(metrics);
  double seconds = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_object() || !record.contains("seconds") || !record.contains("test_error")) continue;
    if (!record["seconds"].is_number() || !record["test_error"].is_number()) continue;
    seconds += record["seconds"].get<double>();
    if (record["test_error"].get<double>() <= target) return seconds;
  }
  return nullptr;
}

}  // namespace ag::app
