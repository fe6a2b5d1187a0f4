// The checkpoint layouts of docs/checkpoint.md and docs/state_format.md, taken apart and put together.
#include "checkpoint_layouts.h"

#include <cstring>
#include <stdexcept>

namespace fixture {
namespace {

constexpr char kStateMagic[] = "LGRDSTAT";
constexpr char kLegacyMagic[] = "LENETCKP";

// Reads a state file front to back; throws when a read runs past the end.
class Cursor {
 public:
  explicit Cursor(const Bytes& bytes) : bytes_(bytes) {}
  Bytes take(std::size_t size) {
    if (size > bytes_.size() - at_) throw std::runtime_error("fault_fixture: the state file is shorter than it says");
    Bytes out = bytes_.substr(at_, size);
    at_ += size;
    return out;
  }
  template <class T>
  T number() {
    T value;
    std::memcpy(&value, take(sizeof(T)).data(), sizeof(T));
    return value;
  }

 private:
  const Bytes& bytes_;
  std::size_t at_ = 0;
};

std::size_t value_bytes(const StateEntry& e) {
  std::size_t size = e.dtype == 1 ? 4 : 8;
  for (const std::uint64_t d : e.dims) size *= static_cast<std::size_t>(d);
  return size;
}

}  // namespace

StateParts split_state(const Bytes& file) {
  const Bytes body = file.substr(0, file.size() - 8);  // the checksum is not read
  Cursor in(body);
  if (in.take(8) != Bytes(kStateMagic, 8)) throw std::runtime_error("fault_fixture: not a state file");
  StateParts parts;
  parts.version = in.number<std::uint32_t>();
  const auto count = in.number<std::uint32_t>();
  parts.metadata = in.take(in.number<std::uint64_t>());
  for (std::uint32_t i = 0; i < count; ++i) {
    StateEntry e;
    e.name = in.take(in.number<std::uint32_t>());
    e.dtype = in.number<std::uint8_t>();
    const auto rank = in.number<std::uint8_t>();
    for (std::uint8_t d = 0; d < rank; ++d) e.dims.push_back(in.number<std::uint64_t>());
    parts.entries.push_back(std::move(e));
  }
  for (StateEntry& e : parts.entries) e.values = in.take(value_bytes(e));
  return parts;
}

Bytes join_state(const StateParts& parts, const Bytes& trailing) {
  Bytes out = Bytes(kStateMagic, 8) + le<std::uint32_t>(parts.version) +
              le<std::uint32_t>(static_cast<std::uint32_t>(parts.entries.size())) +
              le<std::uint64_t>(parts.metadata.size()) + parts.metadata;
  for (const StateEntry& e : parts.entries) {
    out += le<std::uint32_t>(static_cast<std::uint32_t>(e.name.size())) + e.name + le<std::uint8_t>(e.dtype) +
           le<std::uint8_t>(static_cast<std::uint8_t>(e.dims.size()));
    for (const std::uint64_t d : e.dims) out += le<std::uint64_t>(d);
  }
  for (const StateEntry& e : parts.entries) out += e.values;
  out += trailing;
  return out + le<std::uint64_t>(fnv1a(out));
}

LegacyParts legacy_from_state(const StateParts& state) {
  nlohmann::json header = nlohmann::json::parse(state.metadata);
  header.erase("format");
  header.erase("checkpoint_version");
  header["tensors"] = nlohmann::json::array();
  LegacyParts parts;
  for (const StateEntry& e : state.entries) {
    header["tensors"].push_back({{"name", e.name}, {"shape", e.dims}, {"dtype", e.dtype == 1 ? "float32" : "float64"}});
    parts.tensors += e.values;
  }
  parts.header = header.dump();
  return parts;
}

Bytes join_legacy(const LegacyParts& parts) {
  Bytes out = Bytes(kLegacyMagic, 8) + le<std::uint32_t>(parts.version) + le<std::uint64_t>(parts.header.size()) +
              parts.header + parts.tensors;
  return out + le<std::uint64_t>(fnv1a(out));
}

Bytes rechecked(Bytes file) {
  file.resize(file.size() - 8);
  return file + le<std::uint64_t>(fnv1a(file));
}

}  // namespace fixture
