// Checkpoints: the file's frame (magic, version, header length, checksum), writing it atomically, and reading it
// back with every check of docs/checkpoint.md; the header's fields are read by checkpoint_fields.cpp.
#include "apps/train/checkpoint.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <map>

#include "apps/train/checkpoint_fields.h"
#include "apps/train/file_output.h"
#include "autograd/error.h"
#include "nn/data/input_file.h"
#include "nn/serialize/checksum.h"

namespace ag::app {

namespace {

using checkpoint_detail::Header;
using checkpoint_detail::Stored;

// Layout: magic (8 bytes) | version u32 | header length u64 | header JSON | tensor bytes | FNV-1a-64 u64
// of everything before it. Integers little-endian (the machines we build for are x86-64).
constexpr char kMagic[8] = {'L', 'E', 'N', 'E', 'T', 'C', 'K', 'P'};
constexpr std::size_t kPrefix = sizeof(kMagic) + sizeof(std::uint32_t) + sizeof(std::uint64_t);
constexpr std::size_t kChecksum = sizeof(std::uint64_t);
// A header lists a few dozen tensors in a few kB; a longer one is not ours.
constexpr std::uint64_t kMaxHeaderBytes = std::uint64_t{1} << 20;

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

// The whole file, which must be a regular file no larger than a checkpoint of `contents` can be: its frame, a
// header of at most kMaxHeaderBytes and the tensors. A FIFO, a device or an oversized file is refused unread.
std::string read_bytes(const std::filesystem::path& path, const CheckpointContents& contents) {
  std::uint64_t most = kPrefix + kMaxHeaderBytes + kChecksum;
  for (const auto& [name, t] : contents.tensors) most += byte_size(t);
  try {
    data::InputFile file(path, "checkpoint", most, "a checkpoint of this model and optimizer can be");
    return file.read_all();
  } catch (const data::InputFileError& e) {
    fail("checkpoint", "{}: {}", path.string(), e.what());
  }
}

// Checks the frame around the header and tensors and returns the format version and the header length. The
// checksum is verified before any other field is interpreted: a damaged file is reported as damaged, never as
// a version it does not have.
std::pair<std::uint32_t, std::size_t> checked_frame(const std::string& data, const std::string& where) {
  if (data.size() < sizeof(kMagic) && std::memcmp(data.data(), kMagic, data.size()) == 0)
    fail("checkpoint", "{}: truncated: {} bytes, too short for a header", where, data.size());
  if (data.size() < sizeof(kMagic) || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    fail("checkpoint", "{}: not a lenetgrad checkpoint (bad magic bytes)", where);
  if (data.size() < kPrefix + kChecksum)
    fail("checkpoint", "{}: truncated: {} bytes, too short for a header", where, data.size());
  const std::size_t body = data.size() - kChecksum;
  if (read_at<std::uint64_t>(data, body) != nn::fnv1a64(std::string_view(data.data(), body)))
    fail("checkpoint", "{}: checksum mismatch: the file is corrupt or truncated", where);
  const auto version = read_at<std::uint32_t>(data, sizeof(kMagic));
  if (version != 1 && version != kCheckpointVersion)
    fail("checkpoint", "{}: format version {} is not supported (this build reads versions 1 and {})", where, version,
         kCheckpointVersion);
  const auto header_size = read_at<std::uint64_t>(data, sizeof(kMagic) + sizeof(std::uint32_t));
  if (header_size > body - kPrefix)
    fail("checkpoint", "{}: truncated: the header runs past the end of the file", where);
  if (header_size > kMaxHeaderBytes)
    fail("checkpoint", "{}: a header of {} bytes, more than the {} a checkpoint's may hold", where, header_size,
         kMaxHeaderBytes);
  return {version, static_cast<std::size_t>(header_size)};
}

// Fails unless the file's variant and optimizer are those of `contents`.
void check_model(const Header& header, const CheckpointContents& contents, const std::string& where) {
  const std::string variant = header.text("variant");
  if (variant != contents.variant)
    fail("checkpoint", "{}: holds a {} model, but the config asks for {}", where, variant, contents.variant);
  const std::string optimizer = header.text("optimizer");
  if (optimizer != contents.optimizer)
    fail("checkpoint", "{}: holds {} optimizer state, but the config asks for {}", where, optimizer,
         contents.optimizer);
}

// Fails unless every tensor of `contents` is stored with its shape and dtype.
void check_tensors(const std::map<std::string, Stored>& stored, const CheckpointContents& contents,
                   const std::string& where) {
  for (const auto& [name, t] : contents.tensors) {
    const auto it = stored.find(name);
    if (it == stored.end()) fail("checkpoint", "{}: has no tensor {}; it was saved from another model", where, name);
    if (it->second.shape != t.shape() || it->second.dtype != dtype_name(t.dtype()))
      fail("checkpoint", "{}: tensor {} is {} {} in the file but {} {} in the model", where, name,
           shape_str(it->second.shape), it->second.dtype, shape_str(t.shape()), dtype_name(t.dtype()));
  }
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const CheckpointContents& contents) {
  nlohmann::json header = {{"variant", contents.variant},
                           {"optimizer", contents.optimizer},
                           {"epoch", contents.epoch},
                           {"batches_done", contents.batches_done},
                           {"epoch_loss_sum", contents.epoch_loss_sum},
                           {"epoch_errors", contents.epoch_errors},
                           {"epoch_penalty_sum", contents.epoch_penalty_sum},
                           {"optimizer_steps", contents.optimizer_steps},
                           {"rng_state", contents.rng_state},
                           {"batch_size", contents.batch_size},
                           {"train_limit", contents.train_limit},
                           {"train_samples", contents.train_samples},
                           {"tensors", nlohmann::json::array()}};
  std::size_t payload = 0;
  for (const auto& [name, t] : contents.tensors) {
    header["tensors"].push_back({{"name", name}, {"shape", t.shape()}, {"dtype", dtype_name(t.dtype())}});
    payload += byte_size(t);
  }
  const std::string header_text = header.dump();
  std::string out;
  out.reserve(kPrefix + header_text.size() + payload + kChecksum);
  out.append(kMagic, sizeof(kMagic));
  append<std::uint32_t>(out, kCheckpointVersion);
  append<std::uint64_t>(out, header_text.size());
  out += header_text;
  for (const auto& [name, t] : contents.tensors) out.append(bytes_of(t), byte_size(t));
  append<std::uint64_t>(out, nn::fnv1a64(out));
  try {
    write_file_atomically(path, out);
  } catch (const Error& e) {
    fail("checkpoint", "{}", e.what());
  }
}

void load_checkpoint(const std::filesystem::path& path, CheckpointContents& contents) {
  const std::string where = path.string();
  const std::string data = read_bytes(path, contents);
  const auto [version, header_size] = checked_frame(data, where);
  const std::size_t body = data.size() - kChecksum;
  const Header header(data.substr(kPrefix, header_size), where);
  check_model(header, contents, where);
  CheckpointContents read = checkpoint_detail::read_counters(header, version);
  if (!header.field("tensors").is_array()) header.bad_field("tensors", "an array");

  // Locate every stored tensor, check those the caller asks for (name, shape, dtype) and every value, then copy.
  std::size_t offset = kPrefix + header_size;
  const std::map<std::string, Stored> stored =
      checkpoint_detail::locate_tensors(header.field("tensors"), where, offset, body);
  check_tensors(stored, contents, where);
  if (offset != body)
    fail("checkpoint", "{}: {} bytes follow the last tensor; the header does not describe the file", where,
         body - offset);
  checkpoint_detail::require_finite_values(stored, data, where);
  for (auto& [name, t] : contents.tensors)
    std::memcpy(t.impl()->storage.get(), data.data() + stored.at(name).offset, byte_size(t));
  read.variant = std::move(contents.variant);
  read.optimizer = std::move(contents.optimizer);
  read.tensors = std::move(contents.tensors);
  contents = std::move(read);
}

}  // namespace ag::app
