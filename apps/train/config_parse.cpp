// Parsing train_lenet's configuration: file text to a JSON document, a document or a --set argument to keys.
#include "apps/train/config_parse.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "apps/train/suggest.h"
#include "nn/data/input_file.h"

namespace ag::app {
namespace {

using nlohmann::json;

// Deeper nesting than any config needs would only exhaust the stack of the code that walks it.
constexpr int kMaxDepth = 64;

// A config file is a few hundred bytes; a larger one than this is not a config (a data file given by mistake).
constexpr std::uint64_t kMaxConfigBytes = std::uint64_t{4} << 20;

// "<where><path>: unknown key; did you mean <closest>?" (no suggestion when nothing is close).
[[noreturn]] void unknown_key(std::string_view where, std::string_view path, bool with_sections) {
  const std::string suggestion = closest_name(path, config_paths(with_sections));
  if (suggestion.empty()) config_fail(fmt::format("{}{}: unknown key", where, path));
  config_fail(fmt::format("{}{}: unknown key; did you mean {}?", where, path, suggestion));
}

// Reads a whole config file; throws naming the path when it is not a regular file of a plausible size or cannot
// be read.
std::string read_text(const std::string& path) {
  try {
    data::InputFile file(path, "config file", kMaxConfigBytes, "a config file may hold");
    return file.read_all();
  } catch (const data::InputFileError& e) {
    config_fail(fmt::format("{}: {}", path, e.what()));
  }
}

// True when a dotted key has an empty part: "", ".epochs", "train.", "train..epochs".
bool has_empty_part(std::string_view path) {
  return path.empty() || path.front() == '.' || path.back() == '.' || path.find("..") != std::string_view::npos;
}

// "<where>"train.": a key with an empty name ...": said as such, not as an unknown key with nothing shown.
[[noreturn]] void empty_key(std::string_view where, std::string_view path) {
  config_fail(fmt::format("{}{}: a key with an empty name; keys are dotted names such as train.epochs", where,
                          shown_text(path)));
}

// "<line>:<column>" (both 1-based) of the byte at `index` in `text`.
std::string line_column(const std::string& text, std::size_t index) {
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + index, '\n'));
  const std::size_t line_start = index == 0 ? std::string::npos : text.rfind('\n', index - 1);
  return fmt::format("{}:{}", line, line_start == std::string::npos ? index + 1 : index - line_start);
}

// "<path>:<line>:<column>: invalid JSON: <detail>", the position computed from the error's byte offset.
[[noreturn]] void syntax_error(const std::string& path, const std::string& text, const json::parse_error& error) {
  // error.byte is the 1-based offset of the last character read (one past the end at end of input).
  const std::size_t index = std::min<std::size_t>(error.byte == 0 ? 0 : error.byte - 1, text.size());
  // nlohmann's what() reads "[json.exception.parse_error.101] parse error at line L, column C: <detail>".
  std::string detail = error.what();
  const std::size_t at = detail.find("parse error");
  const std::size_t colon = at == std::string::npos ? std::string::npos : detail.find(": ", at);
  if (colon != std::string::npos) detail = detail.substr(colon + 2);
  config_fail(fmt::format("{}:{}: invalid JSON: {}", path, line_column(text, index), detail));
}

// A number too large for a double (1e400): nlohmann gives no position, so the number is looked up.
[[noreturn]] void number_error(const std::string& path, const std::string& text, const json::out_of_range& error) {
  const std::string detail = error.what();
  const std::size_t quote = detail.find('\'');
  const std::string number =
      quote == std::string::npos ? "" : detail.substr(quote + 1, detail.rfind('\'') - quote - 1);
  const std::size_t at = number.empty() ? std::string::npos : text.find(number);
  config_fail(fmt::format("{}:{}: invalid JSON: the number {} is too large to represent", path,
                          line_column(text, at == std::string::npos ? 0 : at), number));
}

// The parser callback that refuses, while parsing, a key given twice in one object (nlohmann would keep the
// last silently) and nesting deeper than kMaxDepth.
class ParseChecks {
 public:
  explicit ParseChecks(const std::string& path) : path_(path) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) {
      config_fail(fmt::format("{}: invalid config: objects or arrays nested more than {} deep", path_, kMaxDepth));
    }
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) {
      open_.emplace_back();
    } else if (event == json::parse_event_t::object_end || event == json::parse_event_t::array_end) {
      if (!open_.empty()) open_.pop_back();
    } else if (event == json::parse_event_t::key && !open_.empty()) {
      Open& innermost = open_.back();
      innermost.current = parsed.get<std::string>();
      if (!innermost.keys.insert(innermost.current).second) {
        config_fail(fmt::format("{}: {}: set twice", path_, current_path()));
      }
    }
    return true;
  }

 private:
  // An object or array being parsed: the keys seen in it and the current one.
  struct Open {
    std::set<std::string> keys;
    std::string current;
  };

  std::string current_path() const {
    std::string path;
    for (const Open& open : open_) {
      if (!open.current.empty()) path += (path.empty() ? "" : ".") + open.current;
    }
    return path;
  }

  const std::string& path_;
  std::vector<Open> open_;
};

// Walks one document, remembering the keys it set so that a key set twice is refused.
class DocumentWalk {
 public:
  DocumentWalk(const std::string& where, const KeyVisitor& take) : where_(where), take_(take) {}

  void walk(const json& object, const std::string& prefix) {
    for (const auto& [name, value] : object.items()) {
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      if (has_empty_part(name)) empty_key(where_, path);
      if (const ConfigKey* key = find_config_key(path)) {
        if (!seen_.insert(path).second) config_fail(fmt::format("{}{}: set twice", where_, path));
        take_(*key, value);
      } else if (is_config_section(path)) {
        if (!value.is_object()) {
          config_fail(fmt::format("{}{}: expected an object (the section {}.*), got {}", where_, path, path,
                                  shown_value_with_type(value)));
        }
        walk(value, path);
      } else {
        unknown(path, value);
      }
    }
  }

 private:
  // Reports an unknown name; inside an unknown section, names the first full key ("trian.epochs").
  [[noreturn]] void unknown(std::string path, const json& value) const {
    const json* inner = &value;  // a loop, not recursion: a deeply nested document must not exhaust the stack
    while (inner->is_object() && !inner->empty()) {
      const auto first = inner->items().begin();
      path += "." + first.key();
      inner = &first.value();
    }
    unknown_key(where_, path, inner->is_object());
  }

  const std::string& where_;
  const KeyVisitor& take_;
  std::set<std::string> seen_;
};

std::string trimmed(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

json read_config_file(const std::string& path) {
  const std::string text = read_text(path);
  // nlohmann's lexer takes a NUL byte for the end of the input and would silently ignore what follows it.
  if (const std::size_t nul = text.find('\0'); nul != std::string::npos) {
    config_fail(fmt::format("{}:{}: invalid JSON: a NUL byte (is this a text file?)", path, line_column(text, nul)));
  }
  ParseChecks checks(path);
  try {
    return json::parse(text, std::ref(checks), /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& error) {
    syntax_error(path, text, error);
  } catch (const json::out_of_range& error) {
    number_error(path, text, error);
  }
}

void walk_config_document(const json& document, const std::string& where, const KeyVisitor& take) {
  if (!document.is_object()) {
    config_fail(fmt::format("{}expected a JSON object of settings at the top level, got {}", where,
                            shown_value_with_type(document)));
  }
  DocumentWalk(where, take).walk(document, "");
}

Override parse_override(const std::string& argument) {
  static constexpr std::string_view where = "--set ";
  const std::size_t equals = argument.find('=');
  if (equals == std::string::npos) {
    config_fail(fmt::format("--set {}: expected key.path=value, found no '='", argument));
  }
  const std::string path = trimmed(argument.substr(0, equals));
  const std::string text = argument.substr(equals + 1);
  if (path.empty()) config_fail(fmt::format("--set {}: expected key.path=value, found no key before '='", argument));
  if (has_empty_part(path)) empty_key(where, path);
  const ConfigKey* key = find_config_key(path);
  if (key == nullptr) {
    if (is_config_section(path)) {
      std::vector<std::string> inside;
      for (const ConfigKey& candidate : config_schema()) {
        if (candidate.path.starts_with(path + ".")) inside.push_back(candidate.path);
      }
      config_fail(fmt::format("--set {}: a section, not a key; set one of its keys: {}", path,
                              fmt::join(inside, ", ")));
    }
    unknown_key(where, path, false);
  }
  // A value must be UTF-8 text like the config file (nlohmann would throw on it later, when writing it out).
  try {
    (void)json(text).dump();
  } catch (const json::type_error&) {
    config_fail(fmt::format("--set {}: the value is not valid UTF-8 text", path));
  }
  // The value is JSON when it parses as JSON, otherwise the text itself; string keys always take the text
  // unless it is a JSON string, so --set output.dir=2024 names the folder "2024".
  const bool textual = key->type == KeyType::string || key->type == KeyType::choice;
  json value;
  try {
    value = json::parse(text);
  } catch (const json::out_of_range&) {
    // A number beyond a double (1e400) is JSON, just too large: said so, not taken for text.
    if (!textual) config_fail(fmt::format("--set {}: the number {} is too large to represent", path, text));
    value = text;
  } catch (const json::parse_error&) {
    value = text;
  }
  if (textual && !value.is_string()) value = text;
  return {key, std::move(value)};
}

}  // namespace ag::app
