#pragma once
/// The exception of train_lenet's configuration layer (config files, --set overrides, the command line) and the
/// text its messages show for a value.
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace ag::app {

/// The exception every configuration error throws; what() names the file or --set, the key, and the problem.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws ConfigError with `message`.
[[noreturn]] void config_fail(std::string message);

/// Returns `value` as JSON text, shortened to 60 characters: "\"abc\"", "[1,2]".
std::string shown_value(const nlohmann::json& value);

/// Returns `text` as a quoted JSON string for a message, any bytes that are not UTF-8 shown as U+FFFD.
std::string shown_text(std::string_view text);

/// Returns shown_value with the JSON type: "\"abc\" (a string)", "1.5 (a number)", "null".
std::string shown_value_with_type(const nlohmann::json& value);

}  // namespace ag::app
