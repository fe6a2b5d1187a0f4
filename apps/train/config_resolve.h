#pragma once
/// Resolving train_lenet's configuration: a config document and --set overrides, each value validated against
/// the schema, into the resolved config (every key present, defaults filled, keys checked together).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "apps/train/config_error.h"

namespace ag::app {

/// Reads the JSON config file at `path`, applies `overrides` ("key.path=value", later ones win) and returns the
/// fully resolved config: every schema key present, defaults filled, "auto" loss and default data dir resolved.
nlohmann::json load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// Like load_config, but from an already parsed document; `source` names it in errors (e.g. the file name).
nlohmann::json resolve_config(const nlohmann::json& document, const std::string& source,
                              const std::vector<std::string>& overrides = {});

/// Returns the resolved config made of the defaults alone.
nlohmann::json default_config();

}  // namespace ag::app
