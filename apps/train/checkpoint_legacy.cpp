// Checkpoints of format versions 1 and 2, written before checkpoints became state files: read, never written, so
// that a run checkpointed by an older build still resumes (docs/checkpoint.md, "Versions 1 and 2").
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <map>

#include "apps/train/checkpoint_fields.h"
#include "autograd/error.h"
#include "nn/serialize/checksum.h"

namespace ag::app::checkpoint_detail {

namespace {

// Layout: magic "LENETCKP" (8 bytes) | version u32 | header length u64 | header JSON | tensor bytes | FNV-1a-64
// u64 of everything before it. Integers little-endian (the machines we build for are x86-64).
constexpr std::size_t kMagic = 8;
constexpr std::size_t kPrefix = kMagic + sizeof(std::uint32_t) + sizeof(std::uint64_t);
constexpr std::size_t kChecksum = sizeof(std::uint64_t);
// A header lists a few dozen tensors in a few kB; a longer one is not ours.
constexpr std::uint64_t kMaxHeaderBytes = std::uint64_t{1} << 20;
// Tensors a header may list (LeNet-5 with Adam has 30); a longer list is not a checkpoint of ours.
constexpr std::size_t kMaxTensors = 1024;

// A tensor stored in the file: its shape, dtype and the offset of its bytes.
struct Stored {
  Shape shape;
  std::string dtype;
  std::size_t offset;
};

template <class T>
T read_at(const std::string& data, std::size_t offset) {
  T value;
  std::memcpy(&value, data.data() + offset, sizeof(T));
  return value;
}

// Checks the frame around the header and tensors and returns the format version and the header length. The
// checksum is verified before any other field is interpreted: a damaged file is reported as damaged, never as
// a version it does not have.
std::pair<std::uint32_t, std::size_t> checked_frame(const std::string& data, const std::string& where) {
  if (data.size() < kPrefix + kChecksum)
    fail("checkpoint", "{}: truncated: {} bytes, too short for a header", where, data.size());
  const std::size_t body = data.size() - kChecksum;
  if (read_at<std::uint64_t>(data, body) != nn::fnv1a64(std::string_view(data.data(), body)))
    fail("checkpoint", "{}: checksum mismatch: the file is corrupt or truncated", where);
  const auto version = read_at<std::uint32_t>(data, kMagic);
  if (version != 1 && version != 2)
    fail("checkpoint",
         "{}: format version {} is not supported in the LENETCKP layout (this build reads its versions 1 and 2; "
         "version {} is a state file)",
         where, version, kCheckpointVersion);
  const auto header_size = read_at<std::uint64_t>(data, kMagic + sizeof(std::uint32_t));
  if (header_size > body - kPrefix)
    fail("checkpoint", "{}: truncated: the header runs past the end of the file", where);
  if (header_size > kMaxHeaderBytes)
    fail("checkpoint", "{}: a header of {} bytes, more than the {} a checkpoint's may hold", where, header_size,
         kMaxHeaderBytes);
  return {version, static_cast<std::size_t>(header_size)};
}

// Returns the stored tensor that `entry` (the header's entry `index`) describes, at `offset`, its byte size
// computed so that no claim can overflow: it must fit in the `room` bytes left before the checksum.
Stored locate_tensor(const nlohmann::json& entry, std::size_t index, std::size_t offset, std::size_t room,
                     const std::string& where, std::size_t& size) {
  const bool well_formed = entry.is_object() && entry.contains("name") && entry["name"].is_string() &&
                           entry.contains("shape") && entry["shape"].is_array() && entry.contains("dtype") &&
                           entry["dtype"].is_string();
  if (!well_formed) fail("checkpoint", "{}: header field \"tensors\": entry {} is not {{name, shape, dtype}}", where, index);
  const std::string name = entry["name"].get<std::string>();
  Stored s{{}, entry["dtype"].get<std::string>(), offset};
  if (s.dtype != "float32" && s.dtype != "float64")
    fail("checkpoint", "{}: tensor {} has dtype \"{}\"; expected float32 or float64", where, name, s.dtype);
  size = s.dtype == "float32" ? 4 : 8;
  for (const nlohmann::json& dim : entry["shape"]) {
    if (!dim.is_number_integer() || dim.get<std::int64_t>() < 0)
      fail("checkpoint", "{}: tensor {} has a bad shape {}", where, name, entry["shape"].dump());
    const auto d = static_cast<std::size_t>(dim.get<std::int64_t>());
    size = d != 0 && size > room / d ? room + 1 : size * d;  // too large: caught just below
    s.shape.push_back(dim.get<std::int64_t>());
  }
  if (size > room) fail("checkpoint", "{}: truncated: tensor {} {} runs past the end", where, name, entry["shape"].dump());
  return s;
}

// Locates every tensor the header's list names, the first at `offset`, each checked to fit before `body`; returns
// them by name and sets `offset` to the end of the last.
std::map<std::string, Stored> locate_tensors(const nlohmann::json& tensors, const std::string& where,
                                             std::size_t& offset, std::size_t body) {
  if (tensors.size() > kMaxTensors)
    fail("checkpoint", "{}: header field \"tensors\": lists {} tensors, more than the {} a checkpoint may hold", where,
         tensors.size(), kMaxTensors);
  std::map<std::string, Stored> stored;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::size_t size = 0;
    Stored s = locate_tensor(tensors[i], i, offset, body - offset, where, size);
    offset += size;
    const std::string name = tensors[i]["name"].get<std::string>();
    if (!stored.emplace(name, std::move(s)).second) fail("checkpoint", "{}: tensor {} is stored twice", where, name);
  }
  return stored;
}

// Throws naming the tensor and the element when a stored value is NaN or Inf.
void require_finite_values(const std::map<std::string, Stored>& stored, const std::string& data,
                           const std::string& where) {
  for (const auto& [name, s] : stored) {
    const bool single = s.dtype == "float32";
    const std::size_t count = static_cast<std::size_t>(numel_of(s.shape));
    for (std::size_t i = 0; i < count; ++i) {
      double value = 0;
      if (single) {
        float f;
        std::memcpy(&f, data.data() + s.offset + 4 * i, 4);
        value = f;
      } else {
        std::memcpy(&value, data.data() + s.offset + 8 * i, 8);
      }
      require_finite(value, name, i, where);
    }
  }
}

}  // namespace

CheckpointContents load_legacy_checkpoint(const std::string& data, CheckpointContents& contents,
                                          const std::string& where) {
  const auto [version, header_size] = checked_frame(data, where);
  const std::size_t body = data.size() - kChecksum;
  const Header header(data.substr(kPrefix, header_size), where);
  check_model(header, contents, where);
  CheckpointContents read = read_counters(header, version);
  if (!header.field("tensors").is_array()) header.bad_field("tensors", "an array");

  // Locate every stored tensor, check those the caller asks for (name, shape, dtype) and every value, then copy.
  std::size_t offset = kPrefix + header_size;
  const std::map<std::string, Stored> stored = locate_tensors(header.field("tensors"), where, offset, body);
  for (const auto& [name, t] : contents.tensors) {
    const auto it = stored.find(name);
    if (it == stored.end()) fail("checkpoint", "{}: has no tensor {}; it was saved from another model", where, name);
    check_stored_shape(name, it->second.shape, it->second.dtype, t, where);
  }
  if (offset != body)
    fail("checkpoint", "{}: {} bytes follow the last tensor; the header does not describe the file", where,
         body - offset);
  require_finite_values(stored, data, where);
  for (auto& [name, t] : contents.tensors) {
    const std::size_t bytes = static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype());
    std::memcpy(t.impl()->storage.get(), data.data() + stored.at(name).offset, bytes);
  }
  return read;
}

}  // namespace ag::app::checkpoint_detail
