#pragma once
// What the configuration tests share: temporary config files, and the error text of loading or overriding one.
#include <doctest/doctest.h>
#include <unistd.h>

#include <apps/train/config.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace config_test {

using ag::app::ConfigError;
using ag::app::load_config;
using nlohmann::json;

inline const std::filesystem::path kSource = LENETGRAD_SOURCE_DIR;

// A file in the temporary folder holding `text`, removed at the end of the scope.
class TempFile {
 public:
  explicit TempFile(const std::string& text, const std::string& name = "config.json") {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("lenetgrad_test_config_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name))
                .string();
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The what() of the ConfigError `action` throws, or "<no error>".
template <class Action>
inline std::string error_of(Action&& action) {
  try {
    action();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "<no error>";
}

// The error of loading a config file holding `text` with `overrides`; "FILE" in the message stands for its path.
inline std::string load_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  TempFile file(text);
  std::string message = error_of([&] { load_config(file.path(), overrides); });
  if (message.starts_with(file.path())) message = "FILE" + message.substr(file.path().size());
  return message;
}

// The error of --set overrides applied to an empty document.
inline std::string set_error(const std::vector<std::string>& overrides) {
  return error_of([&] { ag::app::resolve_config(json::object(), "base.json", overrides); });
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline const json& at(const json& config, const std::string& path) {
  std::string pointer = "/" + path;
  for (char& c : pointer) {
    if (c == '.') c = '/';
  }
  return config.at(json::json_pointer(pointer));
}

}  // namespace config_test
