#pragma once
/// The schema of train_lenet's configuration: one entry per dotted key, with its type, default, allowed values
/// and meaning, and the look-ups and descriptions that parsing, validation and the docs share.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/train/config_error.h"

namespace ag::app {

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

/// Returns true when `path` is a section: a proper prefix of keys ("train", "train.optimizer").
bool is_config_section(std::string_view path);

/// Returns every key's path, in schema order, followed by the sections when `with_sections` is true.
std::vector<std::string> config_paths(bool with_sections);

/// Returns a key's bounds as text: "[1, 60000]", "[0, 1)", ">= 0", "> 0"; empty when it has none.
std::string describe_range(const ConfigKey& key);

/// Returns the text "expected ..." that an error message uses for a key, e.g. "an integer in [1, 60000]".
std::string describe_expected(const ConfigKey& key);

}  // namespace ag::app
