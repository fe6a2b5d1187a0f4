#include "apps/train/checkpoint.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <fcntl.h>
#include <unistd.h>

#include "autograd/random.h"

namespace ag::app {

namespace {

// Layout: magic (8 bytes) | version u32 | header length u64 | header JSON | tensor bytes | FNV-1a-64 u64
// of everything before it. Integers little-endian (the machines we build for are x86-64).
constexpr char kMagic[8] = {'L', 'E', 'N', 'E', 'T', 'C', 'K', 'P'};
constexpr std::size_t kPrefix = sizeof(kMagic) + sizeof(std::uint32_t) + sizeof(std::uint64_t);

std::uint64_t fnv1a(const char* data, std::size_t size) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

template <class T>
void append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <class T>
T read_at(const std::string& data, std::size_t offset) {
  T value;
  std::memcpy(&value, data.data() + offset, sizeof(T));
  return value;
}

std::size_t byte_size(const Tensor& t) { return static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()); }

const char* bytes_of(const Tensor& t) { return reinterpret_cast<const char*>(t.impl()->storage.get()); }

// The whole file; throws naming `where` when it is a folder or cannot be opened.
std::string read_bytes(const std::filesystem::path& path, const std::string& where) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail("checkpoint", "{}: is a directory, not a checkpoint file", where);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("checkpoint", "{}: cannot open the file", where);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Checks the frame around the header and tensors (magic, version, header length, checksum) and returns the
// header length.
std::size_t checked_header_size(const std::string& data, const std::string& where) {
  if (data.size() < sizeof(kMagic) && std::memcmp(data.data(), kMagic, data.size()) == 0)
    fail("checkpoint", "{}: truncated: {} bytes, too short for a header", where, data.size());
  if (data.size() < sizeof(kMagic) || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    fail("checkpoint", "{}: not a lenetgrad checkpoint (bad magic bytes)", where);
  if (data.size() < kPrefix + sizeof(std::uint64_t))
    fail("checkpoint", "{}: truncated: {} bytes, too short for a header", where, data.size());
  const auto version = read_at<std::uint32_t>(data, sizeof(kMagic));
  if (version != kCheckpointVersion)
    fail("checkpoint", "{}: format version {} is not supported (this build reads version {})", where, version,
         kCheckpointVersion);
  const std::size_t body = data.size() - sizeof(std::uint64_t);
  const auto header_size = read_at<std::uint64_t>(data, sizeof(kMagic) + sizeof(std::uint32_t));
  if (header_size > body - kPrefix)
    fail("checkpoint", "{}: truncated: the header runs past the end of the file", where);
  if (read_at<std::uint64_t>(data, body) != fnv1a(data.data(), body))
    fail("checkpoint", "{}: checksum mismatch: the file is corrupt or truncated", where);
  return header_size;
}

// The header's fields, each checked for presence and type before use: the checksum only shows that the file is
// as written, so a file written by another program (or crafted) is refused with a message, never misread.
class Header {
 public:
  Header(const std::string& text, const std::string& where) : where_(where) {
    try {
      json_ = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      fail("checkpoint", "{}: unreadable header: {}", where, e.what());
    }
    if (!json_.is_object()) fail("checkpoint", "{}: unreadable header: not a JSON object", where);
  }

  const nlohmann::json& field(const char* name) const {
    const auto it = json_.find(name);
    if (it == json_.end()) fail("checkpoint", "{}: the header has no field \"{}\"", where_, name);
    return *it;
  }

  [[noreturn]] void bad_field(const char* name, const char* expected) const {
    std::string shown = field(name).dump();
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    fail("checkpoint", "{}: header field \"{}\": expected {}, got {}", where_, name, expected, shown);
  }

  std::int64_t count(const char* name) const {
    const nlohmann::json& value = field(name);
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0) bad_field(name, "an integer >= 0");
    return value.get<std::int64_t>();
  }

  std::string text(const char* name) const {
    if (!field(name).is_string()) bad_field(name, "a string");
    return field(name).get<std::string>();
  }

 private:
  const std::string& where_;
  nlohmann::json json_;
};

// A tensor stored in the file: its shape, dtype and the offset of its bytes.
struct Stored {
  Shape shape;
  std::string dtype;
  std::size_t offset;
};

// Locates every tensor the header lists, the first at `offset`, each checked to fit before `body` (sizes
// computed without overflow); returns them by name and sets `offset` to the end of the last.
std::map<std::string, Stored> locate_tensors(const nlohmann::json& tensors, const std::string& where,
                                             std::size_t& offset, std::size_t body) {
  std::map<std::string, Stored> stored;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const nlohmann::json& entry = tensors[i];
    const bool well_formed = entry.is_object() && entry.contains("name") && entry["name"].is_string() &&
                             entry.contains("shape") && entry["shape"].is_array() && entry.contains("dtype") &&
                             entry["dtype"].is_string();
    if (!well_formed)
      fail("checkpoint", "{}: header field \"tensors\": entry {} is not {{name, shape, dtype}}", where, i);
    const std::string name = entry["name"].get<std::string>();
    Stored s{{}, entry["dtype"].get<std::string>(), offset};
    if (s.dtype != "float32" && s.dtype != "float64")
      fail("checkpoint", "{}: tensor {} has dtype \"{}\"; expected float32 or float64", where, name, s.dtype);
    // The tensor's byte size, computed so that no claim can overflow: it must fit in what the file holds.
    std::size_t size = s.dtype == "float32" ? 4 : 8;
    for (const nlohmann::json& dim : entry["shape"]) {
      if (!dim.is_number_integer() || dim.get<std::int64_t>() < 0)
        fail("checkpoint", "{}: tensor {} has a bad shape {}", where, name, entry["shape"].dump());
      const auto d = static_cast<std::size_t>(dim.get<std::int64_t>());
      if (d != 0 && size > (body - offset) / d) size = body - offset + 1;  // too large: caught just below
      else size *= d;
      s.shape.push_back(dim.get<std::int64_t>());
    }
    if (size > body - offset)
      fail("checkpoint", "{}: truncated: tensor {} {} runs past the end", where, name, entry["shape"].dump());
    offset += size;
    if (!stored.emplace(name, std::move(s)).second)
      fail("checkpoint", "{}: tensor {} is stored twice", where, name);
  }
  return stored;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const CheckpointContents& contents) {
  nlohmann::json header = {{"variant", contents.variant},
                           {"optimizer", contents.optimizer},
                           {"epoch", contents.epoch},
                           {"batches_done", contents.batches_done},
                           {"epoch_loss_sum", contents.epoch_loss_sum},
                           {"epoch_errors", contents.epoch_errors},
                           {"optimizer_steps", contents.optimizer_steps},
                           {"rng_state", contents.rng_state},
                           {"tensors", nlohmann::json::array()}};
  std::size_t payload = 0;
  for (const auto& [name, t] : contents.tensors) {
    header["tensors"].push_back({{"name", name}, {"shape", t.shape()}, {"dtype", dtype_name(t.dtype())}});
    payload += byte_size(t);
  }
  const std::string header_text = header.dump();
  std::string out;
  out.reserve(kPrefix + header_text.size() + payload + sizeof(std::uint64_t));
  out.append(kMagic, sizeof(kMagic));
  append<std::uint32_t>(out, kCheckpointVersion);
  append<std::uint64_t>(out, header_text.size());
  out += header_text;
  for (const auto& [name, t] : contents.tensors) out.append(bytes_of(t), byte_size(t));
  append<std::uint64_t>(out, fnv1a(out.data(), out.size()));

  const std::filesystem::path temporary = path.string() + ".tmp";
  FILE* file = std::fopen(temporary.c_str(), "wb");
  if (!file) fail("checkpoint", "cannot create {}: {}", temporary.string(), std::strerror(errno));
  const bool written = std::fwrite(out.data(), 1, out.size(), file) == out.size();
  const bool flushed = std::fflush(file) == 0 && ::fsync(fileno(file)) == 0;
  const bool closed = std::fclose(file) == 0;
  if (!written || !flushed || !closed) {
    std::filesystem::remove(temporary);
    fail("checkpoint", "cannot write {}: {}", temporary.string(), std::strerror(errno));
  }
  std::filesystem::rename(temporary, path);  // atomic on POSIX: readers see the old file or the new one
  // Syncing the folder makes the rename itself durable (a power cut could otherwise undo it); a kill cannot.
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void load_checkpoint(const std::filesystem::path& path, CheckpointContents& contents) {
  const std::string where = path.string();
  const std::string data = read_bytes(path, where);
  const std::size_t header_size = checked_header_size(data, where);
  const std::size_t body = data.size() - sizeof(std::uint64_t);
  const Header header(data.substr(kPrefix, header_size), where);
  const std::string variant = header.text("variant");
  if (variant != contents.variant)
    fail("checkpoint", "{}: holds a {} model, but the config asks for {}", where, variant, contents.variant);
  const std::string optimizer = header.text("optimizer");
  if (optimizer != contents.optimizer)
    fail("checkpoint", "{}: holds {} optimizer state, but the config asks for {}", where, optimizer,
         contents.optimizer);
  const std::int64_t epoch = header.count("epoch");
  const std::int64_t batches_done = header.count("batches_done");
  const std::int64_t epoch_errors = header.count("epoch_errors");
  const std::int64_t optimizer_steps = header.count("optimizer_steps");
  if (!header.field("epoch_loss_sum").is_number() || !std::isfinite(header.field("epoch_loss_sum").get<double>()))
    header.bad_field("epoch_loss_sum", "a finite number");
  const double epoch_loss_sum = header.field("epoch_loss_sum").get<double>();
  const std::string rng_state = header.text("rng_state");
  try {
    Generator probe;
    probe.set_state(rng_state);
  } catch (const Error&) {
    header.bad_field("rng_state", "a generator state");
  }
  if (!header.field("tensors").is_array()) header.bad_field("tensors", "an array");

  // Locate every stored tensor, then copy those the caller asks for, checking name, shape and dtype.
  std::size_t offset = kPrefix + header_size;
  const std::map<std::string, Stored> stored = locate_tensors(header.field("tensors"), where, offset, body);
  for (auto& [name, t] : contents.tensors) {
    const auto it = stored.find(name);
    if (it == stored.end()) fail("checkpoint", "{}: has no tensor {}; it was saved from another model", where, name);
    if (it->second.shape != t.shape() || it->second.dtype != dtype_name(t.dtype()))
      fail("checkpoint", "{}: tensor {} is {} {} in the file but {} {} in the model", where, name,
           shape_str(it->second.shape), it->second.dtype, shape_str(t.shape()), dtype_name(t.dtype()));
  }
  if (offset != body)
    fail("checkpoint", "{}: {} bytes follow the last tensor; the header does not describe the file", where,
         body - offset);
  for (auto& [name, t] : contents.tensors)
    std::memcpy(t.impl()->storage.get(), data.data() + stored.at(name).offset, byte_size(t));
  contents.epoch = epoch;
  contents.batches_done = batches_done;
  contents.epoch_loss_sum = epoch_loss_sum;
  contents.epoch_errors = epoch_errors;
  contents.optimizer_steps = optimizer_steps;
  contents.rng_state = rng_state;
}

}  // namespace ag::app
