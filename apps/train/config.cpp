// Loading, validating and resolving train_lenet's configuration against the schema in config_schema.cpp.
#include "apps/train/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <numbers>
#include <set>

namespace ag::app {
namespace {

using nlohmann::json;

constexpr std::string_view kFashionDir = "/usr/share/datasets/fashion-mnist";

[[noreturn]] void config_fail(std::string message) { throw ConfigError(std::move(message)); }

// ----- schema look-ups ------------------------------------------------------------------------------------

// The sections: every proper prefix of a key ("train", "train.optimizer", ...).
const std::set<std::string, std::less<>>& config_sections() {
  static const std::set<std::string, std::less<>> sections = [] {
    std::set<std::string, std::less<>> result;
    for (const ConfigKey& key : config_schema()) {
      for (std::size_t dot = key.path.find('.'); dot != std::string::npos; dot = key.path.find('.', dot + 1)) {
        result.insert(key.path.substr(0, dot));
      }
    }
    return result;
  }();
  return sections;
}

bool is_section(std::string_view path) { return config_sections().count(path) != 0; }

// Levenshtein distance between two strings.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view last_segment(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// The closest candidate to `given`: by edit distance when close enough, else the one key with the same last
// segment ("train.lr" -> "train.optimizer.lr"); empty when nothing is close.
std::string closest(std::string_view given, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(2, given.size() / 4);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(given, candidate);
    if (distance < best_distance && distance < given.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best.empty()) return best;
  std::vector<std::string> same_name;
  for (const std::string& candidate : candidates) {
    if (last_segment(candidate) == last_segment(given)) same_name.push_back(candidate);
  }
  return same_name.size() == 1 ? same_name.front() : std::string();
}

std::vector<std::string> key_paths(bool with_sections) {
  std::vector<std::string> paths;
  for (const ConfigKey& key : config_schema()) paths.push_back(key.path);
  if (with_sections) paths.insert(paths.end(), config_sections().begin(), config_sections().end());
  return paths;
}

// "<where><path>: unknown key; did you mean <closest>?" (no suggestion when nothing is close).
[[noreturn]] void unknown_key(std::string_view where, std::string_view path, bool with_sections) {
  const std::string suggestion = closest(path, key_paths(with_sections));
  if (suggestion.empty()) config_fail(fmt::format("{}{}: unknown key", where, path));
  config_fail(fmt::format("{}{}: unknown key; did you mean {}?", where, path, suggestion));
}

// ----- describing values -----------------------------------------------------------------------------------

std::string format_bound(const ConfigKey& key, double bound) {
  if (key.type == KeyType::integer) return fmt::format("{}", static_cast<std::int64_t>(bound));
  return fmt::format("{}", bound);
}

// "[1, 60000]", "[0, 1)", ">= 0", "> 0"; empty when unbounded.
std::string range_text(const ConfigKey& key) {
  if (key.min && key.max) {
    return fmt::format("{}{}, {}{}", key.min_open ? '(' : '[', format_bound(key, *key.min),
                       format_bound(key, *key.max), key.max_open ? ')' : ']');
  }
  if (key.min) return fmt::format("{} {}", key.min_open ? ">" : ">=", format_bound(key, *key.min));
  if (key.max) return fmt::format("{} {}", key.max_open ? "<" : "<=", format_bound(key, *key.max));
  return {};
}

std::string quoted_list(const std::vector<std::string>& values) {
  std::string text;
  for (const std::string& value : values) {
    if (!text.empty()) text += ", ";
    text += json(value).dump();
  }
  return text;
}

// The value as JSON text, shortened when long.
std::string shown(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// The value with its JSON type: "\"abc\" (a string)", "1.5 (a number)", "null".
std::string shown_with_type(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return shown(value) + " (a boolean)";
    case json::value_t::string: return shown(value) + " (a string)";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return shown(value) + " (an integer)";
    case json::value_t::number_float: return shown(value) + " (a number)";
    case json::value_t::object: return shown(value) + " (an object)";
    case json::value_t::array: return shown(value) + " (an array)";
    default: return shown(value);
  }
}

bool in_range(const ConfigKey& key, double value) {
  if (key.min && (key.min_open ? value <= *key.min : value < *key.min)) return false;
  if (key.max && (key.max_open ? value >= *key.max : value > *key.max)) return false;
  return true;
}

// Returns the value normalised for `key` (integers as integers, numbers as floats), or throws naming the key,
// what was expected and what was given.
json validated(const ConfigKey& key, const json& value, std::string_view where) {
  const auto reject = [&](const std::string& given) {
    config_fail(fmt::format("{}{}: expected {}, got {}", where, key.path, describe_expected(key), given));
  };
  switch (key.type) {
    case KeyType::boolean:
      if (!value.is_boolean()) reject(shown_with_type(value));
      return value;
    case KeyType::string:
      if (!value.is_string()) reject(shown_with_type(value));
      if (key.non_empty && value.get_ref<const std::string&>().empty()) reject(shown(value));
      return value;
    case KeyType::choice: {
      if (!value.is_string()) reject(shown_with_type(value));
      const auto& text = value.get_ref<const std::string&>();
      if (std::find(key.choices.begin(), key.choices.end(), text) == key.choices.end()) reject(shown(value));
      return value;
    }
    case KeyType::number: {
      if (!value.is_number()) reject(shown_with_type(value));
      const double number = value.get<double>();
      if (!std::isfinite(number)) reject("a number too large to represent");
      if (!in_range(key, number)) reject(shown(value));
      return json(number);
    }
    case KeyType::integer: {
      json normalised;
      double magnitude = 0;  // only compared with the (small) bounds
      if (value.is_number_unsigned()) {
        normalised = value;
        magnitude = static_cast<double>(value.get<std::uint64_t>());
      } else if (value.is_number_integer()) {
        normalised = value;
        magnitude = static_cast<double>(value.get<std::int64_t>());
      } else if (value.is_number_float()) {
        // An integral float (3.0, 1e3) is accepted as the integer it equals.
        const double number = value.get<double>();
        if (!std::isfinite(number) || number != std::floor(number)) reject(shown(value) + " (not an integer)");
        if (number >= 0 && number < 0x1p64) {
          normalised = static_cast<std::uint64_t>(number);
        } else if (number < 0 && number >= -0x1p63) {
          normalised = static_cast<std::int64_t>(number);
        } else {
          reject(shown(value) + " (too large)");
        }
        magnitude = number;
      } else {
        reject(shown_with_type(value));
      }
      if (!in_range(key, magnitude)) reject(shown(value));
      return normalised;
    }
  }
  return value;
}

// ----- resolving --------------------------------------------------------------------------------------------

// Collects values from a document and from --set overrides, then fills defaults and checks the keys together.
class Resolver {
 public:
  // `where` prefixes errors about the document: "<file>: " (or empty).
  explicit Resolver(std::string where) : document_where_(std::move(where)) {}

  void take_document(const json& document) {
    if (!document.is_object()) {
      config_fail(fmt::format("{}expected a JSON object of settings at the top level, got {}", document_where_,
                              shown_with_type(document)));
    }
    walk(document, "");
  }

  void take_override(const std::string& argument) {
    static constexpr std::string_view where = "--set ";
    const std::size_t equals = argument.find('=');
    if (equals == std::string::npos) {
      config_fail(fmt::format("--set {}: expected key.path=value, found no '='", argument));
    }
    const std::string path = trimmed(argument.substr(0, equals));
    const std::string text = argument.substr(equals + 1);
    if (path.empty()) config_fail(fmt::format("--set {}: expected key.path=value, found no key before '='", argument));
    const ConfigKey* key = find_config_key(path);
    if (key == nullptr) {
      if (is_section(path)) {
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
    json value = json::parse(text, nullptr, false);
    const bool textual = key->type == KeyType::string || key->type == KeyType::choice;
    if (value.is_discarded() || (textual && !value.is_string())) value = text;
    set(*key, value, where);
  }

  json finish() {
    for (const ConfigKey& key : config_schema()) {
      if (values_.count(key.path) == 0) values_[key.path] = key.default_value;
    }
    // Defaults that depend on other keys.
    if (origin_.count("data.dir") == 0 && values_["data.dataset"] == "fashion-mnist") {
      values_["data.dir"] = std::string(kFashionDir);
    }
    if (values_["model.loss"] == "auto") {
      values_["model.loss"] = values_["model.variant"] == "lecun1998" ? "map" : "cross_entropy";
    }
    check_together();
    json resolved = json::object();
    for (const ConfigKey& key : config_schema()) resolved[json::json_pointer(pointer(key.path))] = values_[key.path];
    return resolved;
  }

 private:
  static std::string trimmed(const std::string& text) {
    const std::size_t first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
  }

  static std::string pointer(const std::string& path) {
    std::string result = "/" + path;
    std::replace(result.begin(), result.end(), '.', '/');
    return result;
  }

  void walk(const json& object, const std::string& prefix) {
    for (const auto& [name, value] : object.items()) {
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      if (const ConfigKey* key = find_config_key(path)) {
        if (in_document_.count(path) != 0) config_fail(fmt::format("{}{}: set twice", document_where_, path));
        in_document_.insert(path);
        set(*key, value, document_where_);
      } else if (is_section(path)) {
        if (!value.is_object()) {
          config_fail(fmt::format("{}{}: expected an object (the section {}.*), got {}", document_where_, path,
                                  path, shown_with_type(value)));
        }
        walk(value, path);
      } else {
        unknown(path, value);
      }
    }
  }

  // Reports an unknown name; inside an unknown section, names the first full key ("trian.epochs").
  [[noreturn]] void unknown(std::string path, const json& value) {
    const json* inner = &value;  // a loop, not recursion: a deeply nested document must not exhaust the stack
    while (inner->is_object() && !inner->empty()) {
      const auto first = inner->items().begin();
      path += "." + first.key();
      inner = &first.value();
    }
    unknown_key(document_where_, path, inner->is_object());
  }

  void set(const ConfigKey& key, const json& value, std::string_view where) {
    values_[key.path] = validated(key, value, where);
    origin_[key.path] = std::string(where);
  }

  // The error prefix for a key: where it was set, or the document when it holds its default.
  std::string where_of(const std::string& path) const {
    const auto found = origin_.find(path);
    return found == origin_.end() ? document_where_ : found->second;
  }

  void check_together() {
    // map and mle are defined on the RBF distances of lecun1998, cross_entropy on the logits of modern.
    const json& loss = values_["model.loss"];
    const json& variant = values_["model.variant"];
    const bool rbf_loss = loss == "map" || loss == "mle";
    if (rbf_loss != (variant == "lecun1998")) {
      config_fail(fmt::format("{}model.loss: {} needs model.variant {}, but model.variant is {}",
                              where_of("model.loss"), loss.dump(),
                              rbf_loss ? "\"lecun1998\" (RBF outputs)" : "\"modern\" (logit outputs)",
                              variant.dump()));
    }
    if (values_["train.optimizer.name"] == "sgd" && values_["train.optimizer.nesterov"] == true &&
        values_["train.optimizer.momentum"].get<double>() == 0.0) {
      config_fail(fmt::format("{}train.optimizer.nesterov: true needs train.optimizer.momentum > 0, but it is 0",
                              where_of("train.optimizer.nesterov")));
    }
    const double lr = values_["train.optimizer.lr"].get<double>();
    const double min_lr = values_["train.schedule.min_lr"].get<double>();
    if (values_["train.schedule.name"] == "cosine" && min_lr > lr) {
      config_fail(fmt::format("{}train.schedule.min_lr: expected a number <= train.optimizer.lr ({}), got {}",
                              where_of("train.schedule.min_lr"), lr, min_lr));
    }
  }

  std::string document_where_;
  std::map<std::string, json> values_;
  std::map<std::string, std::string> origin_;
  std::set<std::string> in_document_;
};

std::string prefix_for(const std::string& source) { return source.empty() ? std::string() : source + ": "; }

// Reads a whole file; throws naming the path when it cannot.
std::string read_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    config_fail(fmt::format("{}: cannot read the config file: it is a directory", path));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    config_fail(fmt::format("{}: cannot open the config file: {}", path, std::strerror(errno)));
  }
  std::string text;
  char buffer[4096];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, count);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) config_fail(fmt::format("{}: cannot read the config file", path));
  return text;
}

// "<path>:<line>:<column>: invalid JSON: <detail>", the position computed from the error's byte offset.
[[noreturn]] void syntax_error(const std::string& path, const std::string& text, const json::parse_error& error) {
  // error.byte is the 1-based offset of the last character read (one past the end at end of input).
  std::size_t index = error.byte == 0 ? 0 : error.byte - 1;
  index = std::min(index, text.size());
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + index, '\n'));
  const std::size_t line_start = index == 0 ? 0 : text.rfind('\n', index - 1);
  const std::size_t column = line_start == std::string::npos || index == 0 ? index + 1 : index - line_start;
  // nlohmann's what() reads "[json.exception.parse_error.101] parse error at line L, column C: <detail>".
  std::string detail = error.what();
  const std::size_t at = detail.find("parse error");
  const std::size_t colon = at == std::string::npos ? std::string::npos : detail.find(": ", at);
  if (colon != std::string::npos) detail = detail.substr(colon + 2);
  config_fail(fmt::format("{}:{}:{}: invalid JSON: {}", path, line, column, detail));
}

template <class Enum, std::size_t N>
Enum from_string(const json& config, const std::string& path, const std::pair<std::string_view, Enum> (&names)[N]) {
  const std::string& text = config[json::json_pointer("/" + path)].get_ref<const std::string&>();
  for (const auto& [name, value] : names) {
    if (name == text) return value;
  }
  config_fail(fmt::format("{}: unexpected value \"{}\"", path, text));  // unreachable after validation
}

constexpr std::pair<std::string_view, ModelVariant> kVariants[] = {{"lecun1998", ModelVariant::lecun1998},
                                                                   {"modern", ModelVariant::modern}};
constexpr std::pair<std::string_view, LossKind> kLosses[] = {
    {"map", LossKind::map}, {"mle", LossKind::mle}, {"cross_entropy", LossKind::cross_entropy}};
constexpr std::pair<std::string_view, Dataset> kDatasets[] = {{"mnist", Dataset::mnist},
                                                              {"fashion-mnist", Dataset::fashion_mnist}};
constexpr std::pair<std::string_view, OptimizerKind> kOptimizers[] = {{"sgd", OptimizerKind::sgd},
                                                                      {"adam", OptimizerKind::adam}};
constexpr std::pair<std::string_view, ScheduleKind> kSchedules[] = {{"constant", ScheduleKind::constant},
                                                                    {"paper", ScheduleKind::paper},
                                                                    {"step", ScheduleKind::step},
                                                                    {"cosine", ScheduleKind::cosine}};
constexpr std::pair<std::string_view, ProgressMode> kProgress[] = {
    {"auto", ProgressMode::automatic}, {"bar", ProgressMode::bar}, {"lines", ProgressMode::lines}};

template <class Enum, std::size_t N>
std::string_view name_of(Enum value, const std::pair<std::string_view, Enum> (&names)[N]) {
  for (const auto& [name, candidate] : names) {
    if (candidate == value) return name;
  }
  return "?";
}

}  // namespace

// ----- public API -------------------------------------------------------------------------------------------

const ConfigKey* find_config_key(std::string_view path) {
  for (const ConfigKey& key : config_schema()) {
    if (key.path == path) return &key;
  }
  return nullptr;
}

std::string describe_expected(const ConfigKey& key) {
  const std::string range = range_text(key);
  const std::string in = range.empty() ? "" : (range[0] == '[' || range[0] == '(' ? " in " : " ") + range;
  switch (key.type) {
    case KeyType::boolean: return "true or false";
    case KeyType::integer: return "an integer" + in;
    case KeyType::number: return "a number" + in;
    case KeyType::string: return key.non_empty ? "a non-empty string" : "a string";
    case KeyType::choice: return "one of " + quoted_list(key.choices);
  }
  return {};
}

nlohmann::json resolve_config(const nlohmann::json& document, const std::string& source,
                              const std::vector<std::string>& overrides) {
  Resolver resolver(prefix_for(source));
  resolver.take_document(document);
  for (const std::string& argument : overrides) resolver.take_override(argument);
  return resolver.finish();
}

nlohmann::json load_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) config_fail("load_config: the config file path is empty");
  const std::string text = read_file(path);
  // nlohmann's lexer takes a NUL byte for the end of the input and would silently ignore what follows it.
  if (const std::size_t nul = text.find('\0'); nul != std::string::npos) {
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + nul, '\n'));
    const std::size_t line_start = text.rfind('\n', nul);
    config_fail(fmt::format("{}:{}:{}: invalid JSON: a NUL byte (is this a text file?)", path, line,
                            line_start == std::string::npos ? nul + 1 : nul - line_start));
  }
  // While parsing: a key given twice in one object is an error (nlohmann would keep the last silently), and
  // so is nesting deeper than any config needs (it would only exhaust the stack of the code that walks it).
  constexpr int kMaxDepth = 64;
  std::vector<std::pair<std::set<std::string>, std::string>> objects;  // keys seen and the current key
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) {
      config_fail(fmt::format("{}: invalid config: objects or arrays nested more than {} deep", path, kMaxDepth));
    }
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) {
      objects.emplace_back();
    } else if (event == json::parse_event_t::object_end || event == json::parse_event_t::array_end) {
      if (!objects.empty()) objects.pop_back();
    } else if (event == json::parse_event_t::key && !objects.empty()) {
      auto& [keys, current] = objects.back();
      current = parsed.get<std::string>();
      if (!keys.insert(current).second) {
        std::string key_path;
        for (const auto& frame : objects) {
          if (!frame.second.empty()) key_path += (key_path.empty() ? "" : ".") + frame.second;
        }
        config_fail(fmt::format("{}: {}: set twice", path, key_path));
      }
    }
    return true;
  };
  json document;
  try {
    document = json::parse(text, check, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& error) {
    syntax_error(path, text, error);
  } catch (const json::out_of_range& error) {
    // A number too large for a double (1e400): nlohmann gives no position, so the number is looked up.
    std::string detail = error.what();
    const std::size_t quote = detail.find('\'');
    const std::string number = quote == std::string::npos ? "" : detail.substr(quote + 1, detail.rfind('\'') - quote - 1);
    const std::size_t at = number.empty() ? std::string::npos : text.find(number);
    const std::size_t index = at == std::string::npos ? 0 : at;
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + index, '\n'));
    const std::size_t line_start = index == 0 ? std::string::npos : text.rfind('\n', index - 1);
    config_fail(fmt::format("{}:{}:{}: invalid JSON: the number {} is too large to represent", path, line,
                            line_start == std::string::npos ? index + 1 : index - line_start, number));
  }
  return resolve_config(document, path, overrides);
}

nlohmann::json default_config() { return resolve_config(json::object(), ""); }

TrainConfig to_train_config(const nlohmann::json& config) {
  const json c = resolve_config(config, "");
  const auto at = [&c](const std::string& path) -> const json& { return c[json::json_pointer("/" + path)]; };
  const auto integer = [&at](const std::string& path) { return static_cast<int>(at(path).get<std::int64_t>()); };
  TrainConfig result;
  result.model.variant = from_string(c, "model/variant", kVariants);
  result.model.loss = from_string(c, "model/loss", kLosses);
  result.model.map_j = at("model/map_j").get<double>();
  result.data.dataset = from_string(c, "data/dataset", kDatasets);
  result.data.dir = at("data/dir").get<std::string>();
  result.data.train_limit = at("data/train_limit").get<std::int64_t>();
  result.data.test_limit = at("data/test_limit").get<std::int64_t>();
  result.train.epochs = integer("train/epochs");
  result.train.batch_size = integer("train/batch_size");
  result.train.seed = at("train/seed").get<std::uint64_t>();
  result.train.threads = integer("train/threads");
  result.train.anomaly_detection = at("train/anomaly_detection").get<bool>();
  OptimizerConfig& optimizer = result.train.optimizer;
  optimizer.name = from_string(c, "train/optimizer/name", kOptimizers);
  optimizer.lr = at("train/optimizer/lr").get<double>();
  optimizer.momentum = at("train/optimizer/momentum").get<double>();
  optimizer.nesterov = at("train/optimizer/nesterov").get<bool>();
  optimizer.weight_decay = at("train/optimizer/weight_decay").get<double>();
  optimizer.beta1 = at("train/optimizer/beta1").get<double>();
  optimizer.beta2 = at("train/optimizer/beta2").get<double>();
  optimizer.eps = at("train/optimizer/eps").get<double>();
  ScheduleConfig& schedule = result.train.schedule;
  schedule.name = from_string(c, "train/schedule/name", kSchedules);
  schedule.step_size = integer("train/schedule/step_size");
  schedule.gamma = at("train/schedule/gamma").get<double>();
  schedule.min_lr = at("train/schedule/min_lr").get<double>();
  result.output.dir = at("output/dir").get<std::string>();
  result.output.checkpoint_every = integer("output/checkpoint_every");
  result.output.checkpoint_every_batches = integer("output/checkpoint_every_batches");
  result.output.progress = from_string(c, "output/progress", kProgress);
  return result;
}

std::string_view to_string(ModelVariant value) { return name_of(value, kVariants); }
std::string_view to_string(LossKind value) { return name_of(value, kLosses); }
std::string_view to_string(Dataset value) { return name_of(value, kDatasets); }
std::string_view to_string(OptimizerKind value) { return name_of(value, kOptimizers); }
std::string_view to_string(ScheduleKind value) { return name_of(value, kSchedules); }
std::string_view to_string(ProgressMode value) { return name_of(value, kProgress); }

std::string config_docs_markdown() {
  const auto type_name = [](KeyType type) -> std::string_view {
    switch (type) {
      case KeyType::boolean: return "bool";
      case KeyType::integer: return "integer";
      case KeyType::number: return "number";
      case KeyType::string: return "string";
      case KeyType::choice: return "enum";
    }
    return "?";
  };
  std::string text;
  std::string section;
  for (const ConfigKey& key : config_schema()) {
    const std::string parent = key.path.substr(0, key.path.rfind('.'));
    if (parent != section) {
      section = parent;
      text += fmt::format("{}### `{}`\n\n", text.empty() ? "" : "\n", section);
      text += "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
    }
    std::string allowed;
    switch (key.type) {
      case KeyType::boolean: allowed = "`true`, `false`"; break;
      case KeyType::integer:
      case KeyType::number: allowed = range_text(key).empty() ? "any" : range_text(key); break;
      case KeyType::string: allowed = key.non_empty ? "non-empty" : "any"; break;
      case KeyType::choice:
        for (const std::string& choice : key.choices) {
          allowed += fmt::format("{}`\"{}\"`", allowed.empty() ? "" : ", ", choice);
        }
        break;
    }
    std::string meaning = key.doc;
    if (!key.default_note.empty()) meaning += fmt::format(" Default: {}.", key.default_note);
    text += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", key.path, type_name(key.type), key.default_value.dump(),
                        allowed, meaning);
  }
  return text;
}

// ----- command line -----------------------------------------------------------------------------------------

CommandLine parse_command_line(int argc, const char* const argv[]) {
  CommandLine result;
  bool have_config = false;
  bool have_resume = false;
  const std::vector<std::string> options = {"--config", "--set", "--resume", "--print-config", "--help"};
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    // Split "--option=value" into option and value.
    std::string option = argument;
    std::optional<std::string> value;
    if (argument.starts_with("--") && argument.find('=') != std::string::npos) {
      option = argument.substr(0, argument.find('='));
      value = argument.substr(argument.find('=') + 1);
    }
    const auto take_value = [&](std::string_view what) -> std::string {
      if (value) return *value;
      if (i + 1 >= argc) config_fail(fmt::format("{}: missing {} after it", option, what));
      return argv[++i];
    };
    if (option == "--help" || option == "-h") {
      result.help = true;
    } else if (option == "--print-config") {
      result.print_config = true;
    } else if (option == "--config") {
      std::string path = take_value("the file name");
      if (have_config) {
        config_fail(fmt::format("--config given twice: \"{}\" and \"{}\"", result.config_path, path));
      }
      result.config_path = std::move(path);
      have_config = true;
    } else if (option == "--resume") {
      std::string dir = take_value("the run folder");
      if (have_resume) config_fail(fmt::format("--resume given twice: \"{}\" and \"{}\"", result.resume_dir, dir));
      if (dir.empty()) config_fail("--resume: the run folder is empty");
      result.resume_dir = std::move(dir);
      have_resume = true;
    } else if (option == "--set") {
      result.overrides.push_back(take_value("key.path=value"));
    } else if (option.starts_with("-")) {
      const std::string suggestion = closest(option, options);
      config_fail(suggestion.empty()
                      ? fmt::format("unknown option \"{}\"; see --help", option)
                      : fmt::format("unknown option \"{}\"; did you mean {}?", option, suggestion));
    } else {
      config_fail(fmt::format("unexpected argument \"{}\"; settings are given as --set key.path=value", argument));
    }
  }
  if (!have_config && !have_resume && !result.help) config_fail("missing --config FILE (or --resume DIR); see --help");
  return result;
}

std::string usage_text(std::string_view program) {
  return fmt::format(
      "usage: {} --config FILE [--set key.path=value ...] [--print-config]\n"
      "       {} --resume DIR [--config FILE] [--set key.path=value ...]\n"
      "\n"
      "Trains LeNet-5 as configured by FILE (JSON; see docs/config.md for every key).\n"
      "\n"
      "  --config FILE          the config file, e.g. configs/lenet5.json\n"
      "  --resume DIR           continue the run in DIR from its last checkpoint, with DIR/config.json\n"
      "                         unless --config is given (output.dir becomes DIR)\n"
      "  --set key.path=value   override one key (repeatable; later ones win); the value is JSON when it\n"
      "                         parses as JSON, otherwise text: --set train.epochs=3 --set model.variant=modern\n"
      "  --print-config         print the resolved config (every key) and exit\n"
      "  -h, --help             print this help and exit\n",
      program, program);
}

}  // namespace ag::app
