#pragma once
/// Parsing train_lenet's configuration: a config file's text into a JSON document, a document into the keys it
/// sets, and a --set argument into a key and its value. Unknown keys are reported with the closest valid one.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "apps/train/config_schema.h"

namespace ag::app {

/// Reads the config file at `path` into a JSON document (`//` and `/* */` comments allowed). Throws ConfigError
/// naming the file (and the line and column of a syntax error) when it cannot be read or parsed, holds a NUL
/// byte, gives a key twice in one object, or nests objects or arrays more than 64 deep.
nlohmann::json read_config_file(const std::string& path);

/// Receives one key that a document sets, with its value as given (not yet validated).
using KeyVisitor = std::function<void(const ConfigKey& key, const nlohmann::json& value)>;

/// Calls `take` for every key that `document` sets, in document order; nested sections and dotted names
/// ("train.optimizer.lr") both name keys. Throws ConfigError, its message prefixed by `where` (e.g. "file: "),
/// when `document` is not an object, a key is unknown (naming the closest valid one) or set twice, or a
/// section is given a value that is not an object.
void walk_config_document(const nlohmann::json& document, const std::string& where, const KeyVisitor& take);

/// One --set override: the key and its value, not yet validated.
struct Override {
  const ConfigKey* key = nullptr;  ///< The key, never null in a parsed override.
  nlohmann::json value;            ///< The value: JSON when the text parses as JSON, otherwise the text itself.
};

/// Parses a --set argument "key.path=value". A string or choice key takes the text unless it is a JSON
/// string, so "output.dir=2024" names the folder "2024". Throws ConfigError for a missing '=' or key, an
/// unknown key (naming the closest valid one), a section, or a value that is not UTF-8 text.
Override parse_override(const std::string& argument);

}  // namespace ag::app
