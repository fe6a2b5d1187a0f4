#pragma once
/// Errors thrown by the engine: one exception type whose message names the op and the shapes involved.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace ag {

/// The exception every engine error throws; what() names the op and the shapes.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws ag::Error with a message formatted as "<op>: <details>".
template <class... Args>
[[noreturn]] void fail(std::string_view op, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format("{}: {}", op, fmt::format(format, std::forward<Args>(args)...)));
}

}  // namespace ag
