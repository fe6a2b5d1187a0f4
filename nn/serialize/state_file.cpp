// State files: encoding, and decoding with every length bounded by the bytes left (docs/state_format.md).
#include "nn/serialize/state_file.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <set>

#include "nn/data/input_file.h"
#include "nn/data/output_file.h"
#include "nn/serialize/checksum.h"

namespace ag::nn {

namespace {

// Integers are stored little-endian, which is how this machine holds them: values are copied, not converted.
static_assert(std::endian::native == std::endian::little, "state files are little-endian; this host is not");

// Layout: magic | version u32 | entry count u32 | metadata length u64 | metadata | entry table | payload |
// FNV-1a 64 of everything before it.
constexpr char kMagic[8] = {'L', 'G', 'R', 'D', 'S', 'T', 'A', 'T'};
constexpr std::size_t kPrefix = sizeof(kMagic) + sizeof(std::uint32_t);  // what is read before the checksum
constexpr std::size_t kChecksum = sizeof(std::uint64_t);
constexpr std::uint8_t kFloat32 = 1, kFloat64 = 2;

template <class T>
void append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

std::size_t byte_size(const Tensor& t) { return static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()); }

// Fails unless `file`'s entries can be written: float tensors with distinct, non-empty names of bounded length.
void check_writable(const StateFile& file, std::string_view op) {
  std::set<std::string_view> names;
  for (const auto& [name, t] : file.tensors) {
    if (name.empty() || name.size() > kMaxStateNameBytes)
      fail(op, "entry names must have 1 to {} bytes, got one of {}", kMaxStateNameBytes, name.size());
    if (!names.insert(name).second) fail(op, "entry {} is given twice", name);
    if (!t.defined() || t.dtype() == DType::i64)
      fail(op, "entry {} must be a float32 or float64 tensor", name);
    if (t.dim() > kMaxStateRank) fail(op, "entry {} has {} dimensions, more than {}", name, t.dim(), kMaxStateRank);
  }
}

// Reads the bytes of a file front to back; every read is checked against what is left, so that no count,
// length or shape in the file can make it read past the end.
class Reader {
 public:
  Reader(std::string_view bytes, std::string_view op, std::string_view where) : bytes_(bytes), op_(op), where_(where) {}

  // Throws "<op>: <where>: <message>".
  template <class... Args>
  [[noreturn]] void fault(fmt::format_string<Args...> format, Args&&... args) const {
    fail(op_, "{}: {}", where_, fmt::format(format, std::forward<Args>(args)...));
  }

  std::size_t left() const { return bytes_.size() - position_; }

  // Returns the next `size` bytes; `what` names them in the error when fewer are left.
  std::string_view take(std::uint64_t size, std::string_view what) {
    if (size > left()) fault("truncated: {} runs past the end of the file", what);
    const std::string_view out = bytes_.substr(position_, static_cast<std::size_t>(size));
    position_ += static_cast<std::size_t>(size);
    return out;
  }

  template <class T>
  T number(std::string_view what) {
    T value;
    std::memcpy(&value, take(sizeof(T), what).data(), sizeof(T));
    return value;
  }

 private:
  std::string_view bytes_;
  std::size_t position_ = 0;
  std::string_view op_, where_;
};

// An entry of the table, before its values are read.
struct TableEntry {
  std::string name;
  DType dtype;
  Shape shape;
};

// Checks the magic, then the checksum, then the version, and returns the bytes the checksum covers.
std::string_view checked_frame(std::string_view bytes, const Reader& file) {
  const bool magic_prefix = std::string_view(kMagic, sizeof(kMagic)).starts_with(bytes.substr(0, sizeof(kMagic)));
  if (bytes.size() < sizeof(kMagic) && magic_prefix && !bytes.empty())
    file.fault("truncated: {} bytes, too short for a state file", bytes.size());
  if (bytes.size() < sizeof(kMagic) || !magic_prefix) file.fault("not a lenetgrad state file (bad magic bytes)");
  if (bytes.size() < kPrefix + kChecksum) file.fault("truncated: {} bytes, too short for a state file", bytes.size());
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksum);
  std::uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + body.size(), kChecksum);
  if (stored != fnv1a64(body)) file.fault("checksum mismatch: the file is corrupt or truncated");
  std::uint32_t version = 0;
  std::memcpy(&version, bytes.data() + sizeof(kMagic), sizeof(version));
  if (version != kStateFileVersion)
    file.fault("state file format version {} is not supported (this build reads version {})", version,
               kStateFileVersion);
  return body;
}

// Reads one entry of the table; its shape is bounded by the bytes left (a dimension can hold no more elements
// than there are bytes), so that the sizes computed from it cannot overflow.
TableEntry read_table_entry(Reader& in, std::uint32_t index) {
  const std::string where = fmt::format("the name of entry {}", index);
  const auto name_bytes = in.number<std::uint32_t>(where);
  if (name_bytes == 0 || name_bytes > kMaxStateNameBytes)
    in.fault("entry {} has a name of {} bytes; expected 1 to {}", index, name_bytes, kMaxStateNameBytes);
  TableEntry entry{std::string(in.take(name_bytes, where)), DType::f32, {}};
  const auto dtype = in.number<std::uint8_t>(fmt::format("the dtype of entry {}", entry.name));
  if (dtype != kFloat32 && dtype != kFloat64)
    in.fault("entry {} has dtype code {}; expected 1 (float32) or 2 (float64)", entry.name, dtype);
  entry.dtype = dtype == kFloat32 ? DType::f32 : DType::f64;
  const auto rank = in.number<std::uint8_t>(fmt::format("the shape of entry {}", entry.name));
  if (rank > kMaxStateRank) in.fault("entry {} has {} dimensions, more than {}", entry.name, rank, kMaxStateRank);
  for (std::uint8_t d = 0; d < rank; ++d) {
    const auto size = in.number<std::uint64_t>(fmt::format("the shape of entry {}", entry.name));
    if (size > in.left()) in.fault("entry {} has a dimension of {}, more than the file can hold", entry.name, size);
    entry.shape.push_back(static_cast<std::int64_t>(size));
  }
  return entry;
}

// Returns the bytes `entry`'s values take, or more than `left` when they would not fit (computed without
// overflow: each dimension is at most `left`, and the product is checked before each multiplication).
std::uint64_t values_bytes(const TableEntry& entry, std::size_t left) {
  std::uint64_t size = dtype_size(entry.dtype);
  for (const std::int64_t d : entry.shape) {
    const auto dim = static_cast<std::uint64_t>(d);
    if (dim != 0 && size > left / dim) return std::uint64_t{left} + 1;
    size *= dim;
  }
  return size;
}

// Reads entry table and values after the frame; returns the tensors in file order.
std::vector<NamedTensor> read_entries(Reader& in, std::uint32_t count) {
  std::vector<TableEntry> table;
  std::set<std::string> names;
  for (std::uint32_t i = 0; i < count; ++i) {
    table.push_back(read_table_entry(in, i));
    if (!names.insert(table.back().name).second) in.fault("entry {} is stored twice", table.back().name);
  }
  std::vector<NamedTensor> tensors;
  for (const TableEntry& entry : table) {
    const std::uint64_t size = values_bytes(entry, in.left());
    const std::string what = fmt::format("entry {} {} {}", entry.name, shape_str(entry.shape), dtype_name(entry.dtype));
    const std::string_view values = in.take(size, what);
    Tensor t = empty(entry.shape, entry.dtype);
    if (size > 0) std::memcpy(t.impl()->storage.get(), values.data(), values.size());
    tensors.push_back({entry.name, std::move(t)});
  }
  if (in.left() != 0) in.fault("{} bytes follow the last entry; the table does not describe the file", in.left());
  return tensors;
}

}  // namespace

std::string encode_state_file(const StateFile& file, std::string_view op) {
  check_writable(file, op);
  std::string out(kMagic, sizeof(kMagic));
  append<std::uint32_t>(out, kStateFileVersion);
  append<std::uint32_t>(out, static_cast<std::uint32_t>(file.tensors.size()));
  append<std::uint64_t>(out, file.metadata.size());
  out += file.metadata;
  for (const auto& [name, t] : file.tensors) {
    append<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
    out += name;
    append<std::uint8_t>(out, t.dtype() == DType::f32 ? kFloat32 : kFloat64);
    append<std::uint8_t>(out, static_cast<std::uint8_t>(t.dim()));
    for (const std::int64_t d : t.shape()) append<std::uint64_t>(out, static_cast<std::uint64_t>(d));
  }
  for (const auto& [name, t] : file.tensors)
    if (t.numel() > 0) out.append(reinterpret_cast<const char*>(t.impl()->storage.get()), byte_size(t));
  append<std::uint64_t>(out, fnv1a64(out));
  return out;
}

StateFile decode_state_file(std::string_view bytes, std::string_view op, std::string_view where) {
  Reader frame(bytes, op, where);
  Reader in(checked_frame(bytes, frame), op, where);
  in.take(kPrefix, "the header");  // the magic and the version, checked above
  const auto count = in.number<std::uint32_t>("the entry count");
  const auto metadata_bytes = in.number<std::uint64_t>("the metadata length");
  StateFile file;
  file.metadata = std::string(in.take(metadata_bytes, "the metadata"));
  file.tensors = read_entries(in, count);
  return file;
}

void write_state_file(const std::filesystem::path& path, const StateFile& file, std::string_view op) {
  const std::string bytes = encode_state_file(file, op);
  try {
    data::write_file_atomically(path, bytes);
  } catch (const Error& e) {
    fail(op, "{}", e.what());
  }
}

StateFile read_state_file(const std::filesystem::path& path, std::uint64_t max_bytes, std::string_view op) {
  std::string bytes;
  try {
    data::InputFile file(path, "state file", max_bytes, "the reader allows (its max_bytes)");
    bytes = file.read_all();
  } catch (const data::InputFileError& e) {
    fail(op, "{}: {}", path.string(), e.what());
  }
  return decode_state_file(bytes, op, path.string());
}

}  // namespace ag::nn
