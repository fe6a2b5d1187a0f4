// Checkpoints: written as state files (nn/serialize/state_file.h) whose metadata is the run's header, and read
// back with every check of docs/checkpoint.md; files of the versions before (1 and 2) are read by
// checkpoint_legacy.cpp, the header's fields by checkpoint_fields.cpp.
#include "apps/train/checkpoint.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <string_view>

#include "apps/train/checkpoint_fields.h"
#include "autograd/error.h"
#include "nn/data/input_file.h"
#include "nn/serialize/state_file.h"

namespace ag::app {

namespace {

using checkpoint_detail::Header;

// The first bytes of the two layouts: state files (version 3 on), and the frame of versions 1 and 2.
constexpr std::string_view kStateMagic("LGRDSTAT", 8);
constexpr std::string_view kLegacyMagic("LENETCKP", 8);
// What the metadata of a state file that is a checkpoint says it is.
constexpr std::string_view kFormat = "lenetgrad checkpoint";
// The bytes a checkpoint may hold besides its tensors' values: a header (or metadata and entry table) of at most
// 1 MiB, which lists a few dozen tensors in a few kB, and the frame around it.
constexpr std::uint64_t kMaxOverheadBytes = (std::uint64_t{1} << 20) + 64;

std::size_t byte_size(const Tensor& t) { return static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()); }

// The whole file, which must be a regular file no larger than a checkpoint of `contents` can be. A FIFO, a device
// or an oversized file is refused unread.
std::string read_bytes(const std::filesystem::path& path, const CheckpointContents& contents) {
  std::uint64_t most = kMaxOverheadBytes;
  for (const auto& [name, t] : contents.tensors) most += byte_size(t);
  try {
    data::InputFile file(path, "checkpoint", most, "a checkpoint of this model and optimizer can be");
    return file.read_all();
  } catch (const data::InputFileError& e) {
    fail("checkpoint", "{}: {}", path.string(), e.what());
  }
}

// The header of a checkpoint that is a state file: its metadata, which must say that it is a checkpoint (a model's
// state saved by nn::save_state is a state file too, but not a run to resume) and be of format version 3.
Header checkpoint_header(const std::string& metadata, const std::string& where) {
  const nlohmann::json json = nlohmann::json::parse(metadata, nullptr, false);
  if (!json.is_object() || !json.contains("format") || json["format"] != kFormat)
    fail("checkpoint", "{}: a lenetgrad state file but not a checkpoint (its metadata does not say \"format\": \"{}\")",
         where, kFormat);
  Header header(metadata, where);
  const std::int64_t version = header.count("checkpoint_version", 0, UINT32_MAX);
  if (version != kCheckpointVersion)
    fail("checkpoint", "{}: format version {} is not supported (this build reads versions 1 to {})", where, version,
         kCheckpointVersion);
  return header;
}

// Reads a checkpoint of the current version from `data`, a state file: the checks of nn::decode_state_file (the
// frame, the checksum before anything else, every length), then the header's, then every tensor of `contents`
// by name, shape and dtype, then every stored value; only then are values copied into contents.tensors.
CheckpointContents load_state_checkpoint(const std::string& data, CheckpointContents& contents,
                                         const std::string& where) {
  const nn::StateFile file = nn::decode_state_file(data, "checkpoint", where);
  const Header header = checkpoint_header(file.metadata, where);
  checkpoint_detail::check_model(header, contents, where);
  CheckpointContents read = checkpoint_detail::read_counters(header, kCheckpointVersion);
  std::map<std::string, const Tensor*> stored;
  for (const auto& [name, t] : file.tensors) stored.emplace(name, &t);
  for (const auto& [name, t] : contents.tensors) {
    const auto it = stored.find(name);
    if (it == stored.end()) fail("checkpoint", "{}: has no tensor {}; it was saved from another model", where, name);
    checkpoint_detail::check_stored_shape(name, it->second->shape(), dtype_name(it->second->dtype()), t, where);
  }
  for (const auto& [name, t] : file.tensors) {
    const std::vector<double> values = t.to_vector();
    for (std::size_t i = 0; i < values.size(); ++i) checkpoint_detail::require_finite(values[i], name, i, where);
  }
  for (auto& [name, t] : contents.tensors)
    if (t.numel() > 0) std::memcpy(t.impl()->storage.get(), stored.at(name)->impl()->storage.get(), byte_size(t));
  return read;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const CheckpointContents& contents) {
  const nlohmann::json header = {{"format", kFormat},
                                 {"checkpoint_version", kCheckpointVersion},
                                 {"variant", contents.variant},
                                 {"optimizer", contents.optimizer},
                                 {"model_options", contents.model_options},
                                 {"epoch", contents.epoch},
                                 {"batches_done", contents.batches_done},
                                 {"epoch_loss_sum", contents.epoch_loss_sum},
                                 {"epoch_errors", contents.epoch_errors},
                                 {"epoch_penalty_sum", contents.epoch_penalty_sum},
                                 {"optimizer_steps", contents.optimizer_steps},
                                 {"rng_state", contents.rng_state},
                                 {"batch_size", contents.batch_size},
                                 {"train_limit", contents.train_limit},
                                 {"train_samples", contents.train_samples}};
  nn::StateFile file;
  file.metadata = header.dump();
  for (const auto& [name, t] : contents.tensors) file.tensors.push_back({name, t});
  nn::write_state_file(path, file, "checkpoint");
}

void load_checkpoint(const std::filesystem::path& path, CheckpointContents& contents) {
  const std::string where = path.string();
  const std::string data = read_bytes(path, contents);
  const std::string_view head = std::string_view(data).substr(0, kStateMagic.size());
  const bool state_file = head == kStateMagic, legacy = head == kLegacyMagic;
  if (data.size() < kStateMagic.size() && (kStateMagic.starts_with(head) || kLegacyMagic.starts_with(head)))
    fail("checkpoint", "{}: truncated: {} bytes, too short for a header", where, data.size());
  if (!state_file && !legacy) fail("checkpoint", "{}: not a lenetgrad checkpoint (bad magic bytes)", where);
  CheckpointContents read = state_file ? load_state_checkpoint(data, contents, where)
                                       : checkpoint_detail::load_legacy_checkpoint(data, contents, where);
  read.variant = std::move(contents.variant);
  read.optimizer = std::move(contents.optimizer);
  read.model_options = std::move(contents.model_options);
  read.tensors = std::move(contents.tensors);
  contents = std::move(read);
}

}  // namespace ag::app
