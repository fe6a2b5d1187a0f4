// A checkpoint's header fields, bounded by what a real run writes, and the checks its stored tensors pass.
#include "apps/train/checkpoint_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "apps/train/config_schema.h"
#include "autograd/error.h"
#include "autograd/random.h"
#include "nn/data/idx.h"

namespace ag::app::checkpoint_detail {
namespace {

// The most training samples an epoch can hold: the 28 x 28 images of the largest IDX file the reader accepts.
constexpr std::int64_t kMaxSamples = data::kMaxIdxPayloadBytes / (28 * 28);

// The upper bound that the schema gives an integer key (train.epochs: 1000).
std::int64_t schema_max(std::string_view key) { return static_cast<std::int64_t>(*find_config_key(key)->max); }

// Reads the fields that version 2 adds: what places the run in its sample order.
void read_sample_order(const Header& header, CheckpointContents& c) {
  c.batch_size = header.count("batch_size", 1, schema_max("train.batch_size"));
  c.train_limit = header.count("train_limit", 0, schema_max("data.train_limit"));
  c.train_samples = header.count("train_samples", 1, c.train_limit > 0 ? c.train_limit : kMaxSamples);
  const std::int64_t batches = (c.train_samples + c.batch_size - 1) / c.batch_size;
  c.batches_done = header.count("batches_done", 0, batches - 1);
  c.epoch_errors = header.count("epoch_errors", 0, std::min(c.batches_done * c.batch_size, c.train_samples));
}

}  // namespace

Header::Header(const std::string& text, const std::string& where) : where_(where) {
  try {
    json_ = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("checkpoint", "{}: unreadable header: {}", where, e.what());
  }
  if (!json_.is_object()) fail("checkpoint", "{}: unreadable header: not a JSON object", where);
}

const nlohmann::json& Header::field(const char* name) const {
  const auto it = json_.find(name);
  if (it == json_.end()) fail("checkpoint", "{}: the header has no field \"{}\"", where_, name);
  return *it;
}

void Header::bad_field(const char* name, std::string_view expected) const {
  std::string shown = field(name).dump();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  fail("checkpoint", "{}: header field \"{}\": expected {}, got {}", where_, name, expected, shown);
}

std::int64_t Header::count(const char* name, std::int64_t min, std::int64_t max) const {
  const nlohmann::json& value = field(name);
  // Compared as read: an unsigned value above the int64 range must not wrap into it.
  bool in_range = false;
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    in_range = v <= static_cast<std::uint64_t>(max) && static_cast<std::int64_t>(v) >= min;
  } else if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    in_range = v >= min && v <= max;
  }
  if (!in_range) bad_field(name, fmt::format("an integer in [{}, {}]", min, max));
  return value.get<std::int64_t>();
}

double Header::finite_number(const char* name) const {
  const nlohmann::json& value = field(name);
  if (!value.is_number() || !std::isfinite(value.get<double>())) bad_field(name, "a finite number");
  return value.get<double>();
}

bool Header::has(const char* name) const { return json_.contains(name); }

std::string Header::text(const char* name) const {
  if (!field(name).is_string()) bad_field(name, "a string");
  return field(name).get<std::string>();
}

CheckpointContents read_counters(const Header& header, std::uint32_t version) {
  CheckpointContents c;
  c.version = version;
  c.epoch = header.count("epoch", 0, schema_max("train.epochs"));
  if (version >= 2) {
    read_sample_order(header, c);
  } else {
    c.batches_done = header.count("batches_done", 0, kMaxSamples - 1);
    c.epoch_errors = header.count("epoch_errors", 0, kMaxSamples);
  }
  // At most one optimizer step per sample of every epoch done, and one per batch of the partial one.
  c.optimizer_steps = header.count("optimizer_steps", 0, c.epoch * kMaxSamples + c.batches_done);
  c.epoch_loss_sum = header.finite_number("epoch_loss_sum");
  // Written since train.input_gradient_penalty; a file from before it trained without the penalty.
  if (header.has("epoch_penalty_sum")) c.epoch_penalty_sum = header.finite_number("epoch_penalty_sum");
  c.rng_state = header.text("rng_state");
  try {
    Generator probe;
    probe.set_state(c.rng_state);
  } catch (const Error&) {
    header.bad_field("rng_state", "a generator state");
  }
  return c;
}

void check_model(const Header& header, const CheckpointContents& contents, const std::string& where) {
  const std::string variant = header.text("variant");
  if (variant != contents.variant)
    fail("checkpoint", "{}: holds a {} model, but the config asks for {}", where, variant, contents.variant);
  const std::string optimizer = header.text("optimizer");
  if (optimizer != contents.optimizer)
    fail("checkpoint", "{}: holds {} optimizer state, but the config asks for {}", where, optimizer,
         contents.optimizer);
  // Written since the model's readings of the paper became options; a file from before holds the paper's.
  const std::string options =
      header.has("model_options") ? header.text("model_options") : models::paper_options_text({});
  if (options != contents.model_options)
    fail("checkpoint", "{}: holds a model with {}, but the config asks for {}", where, options,
         contents.model_options);
}

void check_stored_shape(const std::string& name, const Shape& file_shape, std::string_view file_dtype,
                        const Tensor& model, const std::string& where) {
  if (file_shape != model.shape() || file_dtype != dtype_name(model.dtype()))
    fail("checkpoint", "{}: tensor {} is {} {} in the file but {} {} in the model", where, name, shape_str(file_shape),
         file_dtype, shape_str(model.shape()), dtype_name(model.dtype()));
}

void require_finite(double value, const std::string& name, std::size_t index, const std::string& where) {
  if (!std::isfinite(value))
    fail("checkpoint",
         "{}: tensor {} holds {} at element {}; training never checkpoints a value that is not finite, so the file "
         "is not a good run's",
         where, name, std::isnan(value) ? "NaN" : "Inf", index);
}

}  // namespace ag::app::checkpoint_detail
