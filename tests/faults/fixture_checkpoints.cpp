// fault_fixture bad-checkpoints: run folders whose checkpoint.bin is damaged, crafted or not a regular file.
// The layout of docs/checkpoint.md: magic (8) | version u32 | header length u64 | header | tensors | FNV-1a u64.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "fixture_support.h"

namespace fixture {
namespace {

using Cases = std::vector<std::pair<std::string, Bytes>>;

template <class T>
T read_le(const Bytes& data, std::size_t offset) {
  T value;
  std::memcpy(&value, data.data() + offset, sizeof(T));
  return value;
}

template <class T>
Bytes le(T value) {
  return Bytes(reinterpret_cast<const char*>(&value), sizeof(T));
}

struct Checkpoint {
  std::uint32_t version;
  std::string header;
  Bytes tensors;
};

Checkpoint split(const Bytes& file) {
  const auto header_size = read_le<std::uint64_t>(file, 12);
  return {read_le<std::uint32_t>(file, 8), file.substr(20, header_size),
          file.substr(20 + header_size, file.size() - 8 - 20 - header_size)};
}

/// The file for `c`, with a correct checksum: a checkpoint that only its content can give away.
Bytes join(const Checkpoint& c) {
  Bytes out = "LENETCKP" + le<std::uint32_t>(c.version) + le<std::uint64_t>(c.header.size()) + c.header + c.tensors;
  return out + le<std::uint64_t>(fnv1a(out));
}

/// `file` with its checksum made right again after a change to its bytes.
Bytes rechecked(Bytes file) {
  file.resize(file.size() - 8);
  return file + le<std::uint64_t>(fnv1a(file));
}

/// Damage to the frame: sizes, magic, version, checksum.
Cases damaged_frames(const Bytes& good, const Checkpoint& parts) {
  const auto with_version = [&](std::uint32_t version) {
    Checkpoint c = parts;
    c.version = version;
    return join(c);
  };
  Bytes flipped_version = good;
  flipped_version[8] = static_cast<char>(flipped_version[8] ^ 0x04);  // checksum left as it was
  Bytes bit_flip = good;
  bit_flip[bit_flip.size() / 2] = static_cast<char>(bit_flip[bit_flip.size() / 2] ^ 0x10);
  Bytes long_header = good;
  long_header.replace(12, 8, le<std::uint64_t>(~std::uint64_t{0} - 5));
  return {{"good", good},
          {"empty", ""},
          {"ten_bytes", good.substr(0, 10)},
          {"truncated", good.substr(0, good.size() - 100)},
          {"half", good.substr(0, good.size() / 2)},
          {"bit_flip", bit_flip},
          {"bad_magic", "PK\x03\x04" + good.substr(4)},
          {"version_3", with_version(3)},
          {"version_bit_flip", flipped_version},
          {"header_length_past_end", rechecked(long_header)},
          {"trailing_bytes", [&] {
             Checkpoint c = parts;
             c.tensors += "extra";
             return join(c);
           }()}};
}

/// Headers rewritten, the checksum made right: only the content gives them away.
Cases crafted_headers(const Checkpoint& parts) {
  const nlohmann::json header = nlohmann::json::parse(parts.header);
  const auto with = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json h = header;
    change(h);
    Checkpoint c = parts;
    c.header = h.dump();
    return join(c);
  };
  return {
      {"header_not_json",
       [&] {
         Checkpoint c = parts;
         c.header = "{\"variant\": \"lecun1998\", ";
         return join(c);
       }()},
      {"header_missing_tensors", with([](nlohmann::json& h) { h.erase("tensors"); })},
      {"header_epoch_is_text", with([](nlohmann::json& h) { h["epoch"] = "one"; })},
      {"header_negative_epoch", with([](nlohmann::json& h) { h["epoch"] = -3; })},
      {"header_epoch_2_pow_32", with([](nlohmann::json& h) { h["epoch"] = std::int64_t{1} << 32; })},
      {"header_epoch_uint64_max", with([](nlohmann::json& h) { h["epoch"] = ~std::uint64_t{0}; })},
      {"header_steps_int64_max",
       with([](nlohmann::json& h) { h["optimizer_steps"] = std::numeric_limits<std::int64_t>::max(); })},
      {"header_errors_too_many", with([](nlohmann::json& h) { h["batches_done"] = 2, h["epoch_errors"] = 17; })},
      {"header_batch_size_zero", with([](nlohmann::json& h) { h["batch_size"] = 0; })},
      {"header_bad_rng_state", with([](nlohmann::json& h) { h["rng_state"] = "not a state"; })},
      {"header_other_shape", with([](nlohmann::json& h) {
         h["tensors"][0]["shape"] = {3, 1, 5, 5};
       })},
      {"header_negative_shape", with([](nlohmann::json& h) { h["tensors"][0]["shape"] = {-1}; })},
      {"header_huge_shape", with([](nlohmann::json& h) {
         h["tensors"][0]["shape"] = {4611686018427387904LL, 4};
       })},
      {"header_unknown_dtype", with([](nlohmann::json& h) { h["tensors"][0]["dtype"] = "bfloat16"; })},
      {"header_missing_tensor", with([](nlohmann::json& h) { h["tensors"].erase(0); })},
      {"header_other_variant", with([](nlohmann::json& h) { h["variant"] = "modern"; })},
      {"header_batches_done_too_many", with([](nlohmann::json& h) { h["batches_done"] = 1000; })},
      {"header_tensor_twice",
       [&] {
         nlohmann::json h = header;
         h["tensors"].push_back(h["tensors"][0]);
         Checkpoint c = parts;
         c.header = h.dump();
         c.tensors += c.tensors.substr(0, 6 * 25 * 4);  // c1.weight [6,1,5,5] float32 again
         return join(c);
       }()},
  };
}

/// Values that training never writes (NaN, Inf), and checkpoints that a real run writes: within an epoch, and
/// in format version 1 (without batch_size, train_limit and train_samples).
Cases crafted_runs(const Checkpoint& parts) {
  const nlohmann::json header = nlohmann::json::parse(parts.header);
  const auto with_value = [&](std::size_t offset, float value) {
    Checkpoint c = parts;
    std::memcpy(c.tensors.data() + offset, &value, sizeof value);
    return join(c);
  };
  // The good run is one epoch of 5 batches; in the middle of epoch 2, after 2 of its batches.
  const auto mid_epoch = [&](nlohmann::json h) {
    h["batches_done"] = 2, h["optimizer_steps"] = 7, h["epoch_loss_sum"] = 36.5, h["epoch_errors"] = 12;
    return h;
  };
  const auto version_1 = [&](nlohmann::json h) {
    for (const char* field : {"batch_size", "train_limit", "train_samples"}) h.erase(field);
    Checkpoint c = parts;
    c.version = 1;
    c.header = h.dump();
    return join(c);
  };
  Checkpoint mid = parts;
  mid.header = mid_epoch(header).dump();
  nlohmann::json too_far = header;
  too_far["batches_done"] = 1000;
  return {{"nan_weight", with_value(0, std::nanf(""))},
          {"inf_state", with_value(parts.tensors.size() - 4, std::numeric_limits<float>::infinity())},
          {"mid_epoch", join(mid)},
          {"version_1", version_1(header)},
          {"version_1_mid_epoch", version_1(mid_epoch(header))},
          {"version_1_batches_done_too_many", version_1(too_far)}};
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
  const Checkpoint parts = split(good);
  for (const Cases& cases :
       {damaged_frames(good, parts), crafted_headers(parts), crafted_runs(parts), special_files()}) {
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

/// True when the checkpoints at a and b hold the same tensor bytes under the same header.
bool same_weights(const fs::path& a, const fs::path& b) {
  const Checkpoint x = split(read_all(a)), y = split(read_all(b));
  if (x.tensors != y.tensors) {
    std::size_t i = 0;
    while (i < x.tensors.size() && i < y.tensors.size() && x.tensors[i] == y.tensors[i]) ++i;
    fmt::print(stderr, "fault_fixture: the tensors of {} and {} differ first at tensor byte {} (of {} and {})\n",
               a.string(), b.string(), i, x.tensors.size(), y.tensors.size());
    return false;
  }
  if (x.header != y.header) {
    fmt::print(stderr, "fault_fixture: the headers of {} and {} differ:\n{}\n{}\n", a.string(), b.string(), x.header,
               y.header);
    return false;
  }
  return true;
}

}  // namespace fixture
