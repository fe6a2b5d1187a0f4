#include "apps/train/checkpoint.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <unistd.h>

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
}

void load_checkpoint(const std::filesystem::path& path, CheckpointContents& contents) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("checkpoint", "{}: cannot open the file", where);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
  if (header_size > body - kPrefix) fail("checkpoint", "{}: truncated: the header runs past the end of the file", where);
  if (read_at<std::uint64_t>(data, body) != fnv1a(data.data(), body))
    fail("checkpoint", "{}: checksum mismatch: the file is corrupt or truncated", where);

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data.substr(kPrefix, header_size));
  } catch (const nlohmann::json::exception& e) {
    fail("checkpoint", "{}: unreadable header: {}", where, e.what());
  }
  const std::string variant = header.value("variant", "");
  if (variant != contents.variant)
    fail("checkpoint", "{}: holds a {} model, but the config asks for {}", where, variant, contents.variant);
  const std::string optimizer = header.value("optimizer", "");
  if (optimizer != contents.optimizer)
    fail("checkpoint", "{}: holds {} optimizer state, but the config asks for {}", where, optimizer, contents.optimizer);

  // Locate every stored tensor, then copy those the caller asks for, checking name, shape and dtype.
  struct Stored {
    Shape shape;
    std::string dtype;
    std::size_t offset;
  };
  std::map<std::string, Stored> stored;
  std::size_t offset = kPrefix + header_size;
  for (const auto& entry : header.at("tensors")) {
    Stored s{entry.at("shape").get<Shape>(), entry.at("dtype").get<std::string>(), offset};
    const std::size_t size = static_cast<std::size_t>(numel_of(s.shape)) * (s.dtype == "float32" ? 4 : 8);
    if (offset + size > body) fail("checkpoint", "{}: truncated: tensor {} runs past the end", where, entry.at("name").get<std::string>());
    offset += size;
    stored.emplace(entry.at("name").get<std::string>(), std::move(s));
  }
  for (auto& [name, t] : contents.tensors) {
    const auto it = stored.find(name);
    if (it == stored.end()) fail("checkpoint", "{}: has no tensor {}; it was saved from another model", where, name);
    if (it->second.shape != t.shape() || it->second.dtype != dtype_name(t.dtype()))
      fail("checkpoint", "{}: tensor {} is {} {} in the file but {} {} in the model", where, name,
           shape_str(it->second.shape), it->second.dtype, shape_str(t.shape()), dtype_name(t.dtype()));
  }
  for (auto& [name, t] : contents.tensors)
    std::memcpy(t.impl()->storage.get(), data.data() + stored.at(name).offset, byte_size(t));
  contents.epoch = header.at("epoch").get<std::int64_t>();
  contents.batches_done = header.at("batches_done").get<std::int64_t>();
  contents.epoch_loss_sum = header.at("epoch_loss_sum").get<double>();
  contents.epoch_errors = header.at("epoch_errors").get<std::int64_t>();
  contents.optimizer_steps = header.at("optimizer_steps").get<std::int64_t>();
  contents.rng_state = header.at("rng_state").get<std::string>();
}

}  // namespace ag::app
