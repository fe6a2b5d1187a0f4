#pragma once
/// The Markdown reference of train_lenet's configuration keys, generated from the schema.
#include <string>

namespace ag::app {

/// Returns the Markdown reference of every key (tables per section), as embedded in docs/config.md.
std::string config_docs_markdown();

}  // namespace ag::app
