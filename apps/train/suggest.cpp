// The "did you mean" suggestions of the configuration layer.
#include "apps/train/suggest.h"

#include <algorithm>

namespace ag::app {
namespace {

// Levenshtein distance between two strings.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view last_segment(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

}  // namespace

std::string closest_name(std::string_view given, const std::vector<std::string>& candidates) {
  // Close enough: a quarter of the name's length (at least 2) and less than all of it.
  const std::size_t limit = std::max<std::size_t>(2, given.size() / 4);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(given, candidate);
    if (distance < best_distance && distance < given.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best.empty()) return best;
  std::vector<std::string> same_name;
  for (const std::string& candidate : candidates) {
    if (last_segment(candidate) == last_segment(given)) same_name.push_back(candidate);
  }
  return same_name.size() == 1 ? same_name.front() : std::string();
}

}  // namespace ag::app
