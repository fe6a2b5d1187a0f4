#pragma once
/// "Did you mean ...?": the valid name closest to a mistyped one, for config keys and command-line options.
#include <string>
#include <string_view>
#include <vector>

namespace ag::app {

/// Returns the candidate closest to `given`: by edit distance when close enough, else the one candidate with
/// the same last dotted segment ("train.lr" -> "train.optimizer.lr"); empty when nothing is close.
std::string closest_name(std::string_view given, const std::vector<std::string>& candidates);

}  // namespace ag::app
