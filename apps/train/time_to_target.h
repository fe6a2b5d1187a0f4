#pragma once
/// Time to accuracy: how long a run trained before its test error first reached a target.
#include <string>

#include <nlohmann/json.hpp>

namespace ag::app {

/// Returns the seconds of training up to the end of the first epoch in `metrics` (metrics.jsonl's text, a record
/// per line) whose test_error is at most `target`: the sum of the "seconds" of that epoch and those before it
/// (training only: each epoch's evaluation is its "eval_seconds", apart). Returns null when no epoch reached it.
nlohmann::json time_to_target(const std::string& metrics, double target);

}  // namespace ag::app
