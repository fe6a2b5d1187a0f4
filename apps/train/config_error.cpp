// Throwing configuration errors, and the text their messages show for a value.
#include "apps/train/config_error.h"

namespace ag::app {

using nlohmann::json;

void config_fail(std::string message) { throw ConfigError(std::move(message)); }

// Bytes that are not UTF-8 (from a --set argument, which no JSON parser has read) are shown as U+FFFD, the
// replacement character: dump() would throw on them, and the user would get a raw library message.
std::string shown_text(std::string_view text) {
  return json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string shown_value(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string shown_value_with_type(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return shown_value(value) + " (a boolean)";
    case json::value_t::string: return shown_value(value) + " (a string)";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return shown_value(value) + " (an integer)";
    case json::value_t::number_float: return shown_value(value) + " (a number)";
    case json::value_t::object: return shown_value(value) + " (an object)";
    case json::value_t::array: return shown_value(value) + " (an array)";
    default: return shown_value(value);
  }
}

}  // namespace ag::app
