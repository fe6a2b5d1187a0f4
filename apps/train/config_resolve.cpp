// Validating the values of train_lenet's configuration and resolving them into the resolved config.
#include "apps/train/config_resolve.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>

#include "apps/train/config_parse.h"

namespace ag::app {
namespace {

using nlohmann::json;

constexpr std::string_view kFashionDir = "/usr/share/datasets/fashion-mnist";

bool in_range(const ConfigKey& key, double value) {
  if (key.min && (key.min_open ? value <= *key.min : value < *key.min)) return false;
  if (key.max && (key.max_open ? value >= *key.max : value > *key.max)) return false;
  return true;
}

// Returns an integer key's value normalised: an integral float (3.0, 1e3) becomes the integer it equals.
// Calls `reject`, which throws, with the text to show for a value that is not an integer in range.
json normalised_integer(const ConfigKey& key, const json& value, const std::function<void(std::string)>& reject) {
  json normalised;
  double magnitude = 0;  // only compared with the (small) bounds
  if (value.is_number_unsigned()) {
    normalised = value;
    magnitude = static_cast<double>(value.get<std::uint64_t>());
  } else if (value.is_number_integer()) {
    normalised = value;
    magnitude = static_cast<double>(value.get<std::int64_t>());
  } else if (value.is_number_float()) {
    const double number = value.get<double>();
    if (!std::isfinite(number) || number != std::floor(number)) reject(shown_value(value) + " (not an integer)");
    if (number >= 0 && number < 0x1p64) {
      normalised = static_cast<std::uint64_t>(number);
    } else if (number < 0 && number >= -0x1p63) {
      normalised = static_cast<std::int64_t>(number);
    } else {
      reject(shown_value(value) + " (too large)");
    }
    magnitude = number;
  } else {
    reject(shown_value_with_type(value));
  }
  if (!in_range(key, magnitude)) reject(shown_value(value));
  return normalised;
}

// Calls `reject` when a number that is in range as a double leaves it in float32, the precision training computes
// in: an eps of 1e-50 is 0 there (a division by zero), a momentum of 0.999999999 is 1. Subnormal results count as
// 0, since the kernels flush them.
void check_in_float32(const ConfigKey& key, double number, const std::function<void(std::string)>& reject) {
  if (std::fabs(number) > static_cast<double>(std::numeric_limits<float>::max()))
    reject("beyond the float32 range that training computes in");
  float narrow = static_cast<float>(number);
  if (std::fpclassify(narrow) == FP_SUBNORMAL) narrow = 0.0f;
  if (!in_range(key, static_cast<double>(narrow)))
    reject(fmt::format("{} in float32, the precision training computes in", narrow));
}

// Returns the value normalised for `key` (integers as integers, numbers as floats), or throws naming the key,
// what was expected and what was given.
json validated(const ConfigKey& key, const json& value, std::string_view where) {
  const std::function<void(std::string)> reject = [&](const std::string& given) {
    config_fail(fmt::format("{}{}: expected {}, got {}", where, key.path, describe_expected(key), given));
  };
  switch (key.type) {
    case KeyType::boolean:
      if (!value.is_boolean()) reject(shown_value_with_type(value));
      return value;
    case KeyType::string:
      if (!value.is_string()) reject(shown_value_with_type(value));
      if (key.non_empty && value.get_ref<const std::string&>().empty()) reject(shown_value(value));
      // The system would end a path at a NUL: another file than the one named would be used.
      if (value.get_ref<const std::string&>().find('\0') != std::string::npos)
        reject(shown_value(value) + " (it holds a NUL character)");
      return value;
    case KeyType::choice: {
      if (!value.is_string()) reject(shown_value_with_type(value));
      const auto& text = value.get_ref<const std::string&>();
      if (std::find(key.choices.begin(), key.choices.end(), text) == key.choices.end()) reject(shown_value(value));
      return value;
    }
    case KeyType::number: {
      if (!value.is_number()) reject(shown_value_with_type(value));
      const double number = value.get<double>();
      if (!std::isfinite(number)) reject("a number too large to represent");
      if (!in_range(key, number)) reject(shown_value(value));
      check_in_float32(key, number, [&](const std::string& why) { reject(shown_value(value) + " (" + why + ")"); });
      return json(number);
    }
    case KeyType::integer: return normalised_integer(key, value, reject);
  }
  return value;
}

// Collects values from a document and from --set overrides, then fills defaults and checks the keys together.
class Resolver {
 public:
  // `where` prefixes errors about the document: "<file>: " (or empty).
  explicit Resolver(std::string where) : document_where_(std::move(where)) {}

  void take_document(const json& document) {
    walk_config_document(document, document_where_,
                         [this](const ConfigKey& key, const json& value) { set(key, value, document_where_); });
  }

  void take_override(const std::string& argument) {
    const Override parsed = parse_override(argument);
    set(*parsed.key, parsed.value, "--set ");
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
  static std::string pointer(const std::string& path) {
    std::string result = "/" + path;
    std::replace(result.begin(), result.end(), '.', '/');
    return result;
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
    // The readings of the paper are options of its model only.
    for (const char* key : {"model.input", "model.subsampling", "model.subsampling_squash", "model.codes",
                            "model.init"}) {
      if (variant == "modern" && values_[key] != find_config_key(key)->default_value) {
        config_fail(fmt::format("{}{}: {} is an option of model.variant \"lecun1998\", but model.variant is {}",
                                where_of(key), key, values_[key].dump(), variant.dump()));
      }
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
    const double warmup = values_["train.schedule.warmup_epochs"].get<double>();
    if (const int epochs = values_["train.epochs"].get<int>(); warmup >= epochs) {
      config_fail(fmt::format("{}train.schedule.warmup_epochs: expected a number < train.epochs ({}), got {}",
                              where_of("train.schedule.warmup_epochs"), epochs, warmup));
    }
  }

  std::string document_where_;
  std::map<std::string, json> values_;
  std::map<std::string, std::string> origin_;
};

std::string prefix_for(const std::string& source) { return source.empty() ? std::string() : source + ": "; }

}  // namespace

json resolve_config(const json& document, const std::string& source, const std::vector<std::string>& overrides) {
  Resolver resolver(prefix_for(source));
  resolver.take_document(document);
  for (const std::string& argument : overrides) resolver.take_override(argument);
  return resolver.finish();
}

json load_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) config_fail("load_config: the config file path is empty");
  return resolve_config(read_config_file(path), path, overrides);
}

json default_config() { return resolve_config(json::object(), ""); }

}  // namespace ag::app
