// The Markdown tables of docs/config.md's key reference, generated from the schema (config_schema.cpp).
#include "apps/train/config_docs.h"

#include <fmt/format.h>

#include "apps/train/config_schema.h"

namespace ag::app {
namespace {

std::string_view type_name(KeyType type) {
  switch (type) {
    case KeyType::boolean: return "bool";
    case KeyType::integer: return "integer";
    case KeyType::number: return "number";
    case KeyType::string: return "string";
    case KeyType::choice: return "enum";
  }
  return "?";
}

// The "allowed" column: the values a key takes.
std::string allowed_values(const ConfigKey& key) {
  switch (key.type) {
    case KeyType::boolean: return "`true`, `false`";
    case KeyType::integer:
    case KeyType::number: return describe_range(key).empty() ? "any" : describe_range(key);
    case KeyType::string: return key.non_empty ? "non-empty" : "any";
    case KeyType::choice: {
      std::string allowed;
      for (const std::string& choice : key.choices) {
        allowed += fmt::format("{}`\"{}\"`", allowed.empty() ? "" : ", ", choice);
      }
      return allowed;
    }
  }
  return {};
}

}  // namespace

std::string config_docs_markdown() {
  std::string text;
  std::string section;
  for (const ConfigKey& key : config_schema()) {
    const std::string parent = key.path.substr(0, key.path.rfind('.'));
    if (parent != section) {
      section = parent;
      text += fmt::format("{}### `{}`\n\n", text.empty() ? "" : "\n", section);
      text += "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
    }
    std::string meaning = key.doc;
    if (!key.default_note.empty()) meaning += fmt::format(" Default: {}.", key.default_note);
    text += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", key.path, type_name(key.type), key.default_value.dump(),
                        allowed_values(key), meaning);
  }
  return text;
}

}  // namespace ag::app
