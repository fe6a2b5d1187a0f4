// fault_fixture bad-checkpoints: run folders whose checkpoint.bin is damaged, crafted or not a regular file, in the
// current format (a state file whose metadata is the header) and in format 2 (the LENETCKP layout, still read),
// put together by checkpoint_layouts.h.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "checkpoint_layouts.h"
#include "fixture_support.h"

namespace fixture {
namespace {

using Cases = std::vector<std::pair<std::string, Bytes>>;
using HeaderChange = std::function<void(nlohmann::json&)>;

/// Headers rewritten, in either format: only their content gives them away.
std::vector<std::pair<std::string, HeaderChange>> header_changes() {
  return {
      {"header_epoch_is_text", [](nlohmann::json& h) { h["epoch"] = "one"; }},
      {"header_negative_epoch", [](nlohmann::json& h) { h["epoch"] = -3; }},
      {"header_epoch_2_pow_32", [](nlohmann::json& h) { h["epoch"] = std::int64_t{1} << 32; }},
      {"header_epoch_uint64_max", [](nlohmann::json& h) { h["epoch"] = ~std::uint64_t{0}; }},
      {"header_steps_int64_max",
       [](nlohmann::json& h) { h["optimizer_steps"] = std::numeric_limits<std::int64_t>::max(); }},
      {"header_errors_too_many", [](nlohmann::json& h) { h["batches_done"] = 2, h["epoch_errors"] = 17; }},
      {"header_batch_size_zero", [](nlohmann::json& h) { h["batch_size"] = 0; }},
      {"header_bad_rng_state", [](nlohmann::json& h) { h["rng_state"] = "not a state"; }},
      {"header_other_variant", [](nlohmann::json& h) { h["variant"] = "modern"; }},
      {"header_batches_done_too_many", [](nlohmann::json& h) { h["batches_done"] = 1000; }},
      {"header_missing_epoch", [](nlohmann::json& h) { h.erase("epoch"); }},
  };
}

/// The run's place in epoch 2 after 2 of its 5 batches (the good run is one epoch of 5 batches).
void mid_epoch(nlohmann::json& h) {
  h["batches_done"] = 2, h["optimizer_steps"] = 7, h["epoch_loss_sum"] = 36.5, h["epoch_errors"] = 12;
}

/// `parts` with one change, as a file.
Bytes changed(StateParts parts, const std::function<void(StateParts&)>& change) {
  change(parts);
  return join_state(parts);
}

/// `parts` with its metadata (the header) changed, as a file.
Bytes with_header(const StateParts& parts, const HeaderChange& change) {
  return changed(parts, [&](StateParts& p) {
    nlohmann::json h = nlohmann::json::parse(p.metadata);
    change(h);
    p.metadata = h.dump();
  });
}

/// The current format, damaged or crafted: the frame, the metadata, the entry table and the values.
Cases current_format(const Bytes& good, const StateParts& parts) {
  Bytes version_flip = good, bit_flip = good;
  version_flip[8] = static_cast<char>(version_flip[8] ^ 0x04);  // checksum left as it was
  bit_flip[bit_flip.size() / 2] = static_cast<char>(bit_flip[bit_flip.size() / 2] ^ 0x10);
  Bytes long_metadata = good;
  long_metadata.replace(16, 8, le<std::uint64_t>(~std::uint64_t{0} - 5));
  const auto set_value = [](std::size_t entry, std::size_t index, float value) {
    return [=](StateParts& p) {
      StateEntry& e = p.entries.at(entry == SIZE_MAX ? p.entries.size() - 1 : entry);
      std::memcpy(e.values.data() + (index == SIZE_MAX ? e.values.size() - 4 : 4 * index), &value, sizeof value);
    };
  };
  Cases cases = {
      {"good", good},
      {"empty", ""},
      {"ten_bytes", good.substr(0, 10)},
      {"truncated", good.substr(0, good.size() - 100)},
      {"half", good.substr(0, good.size() / 2)},
      {"bit_flip", bit_flip},
      {"bad_magic", "PK\x03\x04" + good.substr(4)},
      {"version_bit_flip", version_flip},
      {"state_version_2", changed(parts, [](StateParts& p) { p.version = 2; })},
      {"version_4", with_header(parts, [](nlohmann::json& h) { h["checkpoint_version"] = 4; })},
      {"metadata_length_past_end", rechecked(long_metadata)},
      {"trailing_bytes", join_state(parts, "extra")},
      {"header_not_json", changed(parts, [](StateParts& p) { p.metadata = "{\"variant\": \"lecun1998\", "; })},
      {"model_state_file", changed(parts, [](StateParts& p) { p.metadata.clear(); })},
      {"header_other_shape",
       changed(parts, [](StateParts& p) { p.entries[0].dims = {3, 1, 5, 5}, p.entries[0].values.resize(3 * 25 * 4); })},
      {"header_missing_tensor", changed(parts, [](StateParts& p) { p.entries.erase(p.entries.begin()); })},
      {"header_huge_shape", changed(parts, [](StateParts& p) { p.entries[0].dims = {4611686018427387904ULL, 4}; })},
      {"header_rank_9", changed(parts, [](StateParts& p) { p.entries[0].dims.assign(9, 1); })},
      {"header_unknown_dtype", changed(parts, [](StateParts& p) { p.entries[0].dtype = 7; })},
      {"header_tensor_twice", changed(parts, [](StateParts& p) { p.entries.push_back(p.entries[0]); })},
      {"nan_weight", changed(parts, set_value(0, 0, std::nanf("")))},
      {"inf_state", changed(parts, set_value(SIZE_MAX, SIZE_MAX, std::numeric_limits<float>::infinity()))},
      {"mid_epoch", with_header(parts, mid_epoch)},
  };
  for (const auto& [name, change] : header_changes()) cases.emplace_back(name, with_header(parts, change));
  return cases;
}

/// Format 2 (and 1), which older builds wrote: still read, with every check of its own layout. Names start "v2_".
Cases format_2(const StateParts& state) {
  const LegacyParts parts = legacy_from_state(state);
  const nlohmann::json header = nlohmann::json::parse(parts.header);
  const auto with = [&](const HeaderChange& change, std::uint32_t version = 2, const Bytes& extra = {}) {
    nlohmann::json h = header;
    change(h);
    LegacyParts c = parts;
    c.version = version, c.header = h.dump(), c.tensors += extra;
    return join_legacy(c);
  };
  const auto version_1 = [&](const HeaderChange& change) {
    return with(
        [&](nlohmann::json& h) {
          change(h);
          for (const char* field : {"batch_size", "train_limit", "train_samples"}) h.erase(field);
        },
        1);
  };
  const HeaderChange none = [](nlohmann::json&) {};
  Bytes long_header = join_legacy(parts);
  long_header.replace(12, 8, le<std::uint64_t>(~std::uint64_t{0} - 5));
  Bytes nan_weight = join_legacy(parts);
  const float nan = std::nanf("");
  std::memcpy(nan_weight.data() + 20 + parts.header.size(), &nan, sizeof nan);
  Cases cases = {
      {"v2_good", join_legacy(parts)},
      {"v2_version_3", with(none, 3)},
      {"v2_header_length_past_end", rechecked(long_header)},
      {"v2_header_not_json", [&] {
         LegacyParts c = parts;
         c.header = "{\"variant\": \"lecun1998\", ";
         return join_legacy(c);
       }()},
      {"v2_header_missing_tensors", with([](nlohmann::json& h) { h.erase("tensors"); })},
      {"v2_header_other_shape", with([](nlohmann::json& h) { h["tensors"][0]["shape"] = {3, 1, 5, 5}; })},
      {"v2_header_negative_shape", with([](nlohmann::json& h) { h["tensors"][0]["shape"] = {-1}; })},
      {"v2_header_huge_shape",
       with([](nlohmann::json& h) { h["tensors"][0]["shape"] = {4611686018427387904LL, 4}; })},
      {"v2_header_unknown_dtype", with([](nlohmann::json& h) { h["tensors"][0]["dtype"] = "bfloat16"; })},
      {"v2_header_missing_tensor", with([](nlohmann::json& h) { h["tensors"].erase(0); })},
      {"v2_header_tensor_twice", with([](nlohmann::json& h) { h["tensors"].push_back(h["tensors"][0]); }, 2,
                                      parts.tensors.substr(0, 6 * 25 * 4))},  // c1.weight [6,1,5,5] float32 again
      {"v2_trailing_bytes", with(none, 2, "extra")},
      {"v2_nan_weight", rechecked(nan_weight)},
      {"v2_mid_epoch", with(mid_epoch)},
      {"version_1", version_1(none)},
      {"version_1_mid_epoch", version_1(mid_epoch)},
      {"version_1_batches_done_too_many", version_1([](nlohmann::json& h) { h["batches_done"] = 1000; })},
  };
  for (const auto& [name, change] : header_changes()) cases.emplace_back("v2_" + name, with(change));
  return cases;
}

/// Checkpoint paths that are not regular files, or of a size no checkpoint of the model has.
Cases special_files() {
  return {{"fifo", "<fifo>"},
          {"dev_zero", "<link:/dev/zero>"},
          {"sparse_10g", "<sparse:10737418240>"},
          {"loop", "<link:checkpoint.bin>"}};
}

}  // namespace

void make_bad_checkpoints(const fs::path& run, const fs::path& root) {
  const Bytes good = read_all(run / "checkpoint.bin");
  const Bytes config = read_all(run / "config.json");
  const StateParts parts = split_state(good);
  for (const Cases& cases : {current_format(good, parts), format_2(parts), special_files()}) {
    for (const auto& [name, bytes] : cases) {
      const fs::path dir = root / name;
      fs::remove_all(dir);
      write_all(dir / "config.json", config);
      write_all(dir / "checkpoint.bin", bytes);
    }
  }
  // A run folder whose checkpoint is missing, and one whose checkpoint is a directory.
  write_all(root / "missing" / "config.json", config);
  fs::remove_all(root / "is_directory");
  write_all(root / "is_directory" / "config.json", config);
  write_all(root / "is_directory" / "checkpoint.bin", "<dir>");
}

/// True when the checkpoints at a and b hold the same entries (names, shapes, values) under the same header.
bool same_weights(const fs::path& a, const fs::path& b) {
  const StateParts x = split_state(read_all(a)), y = split_state(read_all(b));
  if (x.metadata != y.metadata) {
    fmt::print(stderr, "fault_fixture: the headers of {} and {} differ:\n{}\n{}\n", a.string(), b.string(), x.metadata,
               y.metadata);
    return false;
  }
  if (x.entries.size() != y.entries.size()) {
    fmt::print(stderr, "fault_fixture: {} holds {} entries and {} holds {}\n", a.string(), x.entries.size(),
               b.string(), y.entries.size());
    return false;
  }
  for (std::size_t i = 0; i < x.entries.size(); ++i) {
    const StateEntry &p = x.entries[i], &q = y.entries[i];
    if (p.name != q.name || p.dims != q.dims || p.values != q.values) {
      std::size_t k = 0;
      while (k < p.values.size() && k < q.values.size() && p.values[k] == q.values[k]) ++k;
      fmt::print(stderr, "fault_fixture: entry {} of {} ({}) and of {} ({}) differ first at value byte {}\n", i,
                 a.string(), p.name, b.string(), q.name, k);
      return false;
    }
  }
  return true;
}

}  // namespace fixture
