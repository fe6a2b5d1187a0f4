#include "nn/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "autograd/error.h"

namespace ag::data {
namespace {

constexpr std::string_view kOp = "read_idx";
constexpr std::size_t kChunk = std::size_t{1} << 20;  // payload bytes read (and allocated) per step

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// A sequential byte source: the file itself, or the data decompressed from it.
class Source {
 public:
  virtual ~Source() = default;
  // Reads up to n bytes into dst; returns fewer only at the end of the data. Throws on read errors.
  virtual std::size_t read(std::uint8_t* dst, std::size_t n) = 0;
  // The number of bytes the source holds in all, when known before reading (raw files).
  virtual std::optional<std::uint64_t> total_size() const = 0;
  // How messages name the data: "the file" or "the decompressed data".
  virtual std::string_view noun() const = 0;
};

class RawSource final : public Source {
 public:
  RawSource(std::FILE* file, std::uint64_t size, const std::string& name) : file_(file), size_(size), name_(name) {}
  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    const std::size_t got = std::fread(dst, 1, n, file_);
    if (got < n && std::ferror(file_)) fail(kOp, "'{}': read error ({})", name_, std::strerror(errno));
    return got;
  }
  std::optional<std::uint64_t> total_size() const override { return size_; }
  std::string_view noun() const override { return "the file"; }

 private:
  std::FILE* file_;
  std::uint64_t size_;
  const std::string& name_;
};

// Streams a gzip file through zlib's inflate, so memory follows the bytes actually decompressed, never the
// header's claim. Concatenated gzip members (valid gzip, as gunzip reads them) are decompressed in turn.
// zlib checks each member's CRC-32 and length when it reaches the member's end.
class GzipSource final : public Source {
 public:
  GzipSource(std::FILE* file, const std::string& name) : file_(file), name_(name) {
    // 15 + 16: the largest window, gzip wrapper only (the caller has seen the gzip magic bytes).
    if (inflateInit2(&stream_, 15 + 16) != Z_OK) fail(kOp, "'{}': cannot initialise zlib", name_);
  }
  ~GzipSource() override { inflateEnd(&stream_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    n = std::min<std::size_t>(n, UINT_MAX);
    stream_.next_out = dst;
    stream_.avail_out = static_cast<uInt>(n);
    while (stream_.avail_out > 0) {
      if (member_ended_) {
        if (stream_.avail_in == 0) refill();
        if (stream_.avail_in == 0) break;  // the true end of the data
        inflateReset(&stream_);            // another gzip member follows
        member_ended_ = false;
      }
      if (stream_.avail_in == 0) {
        refill();
        if (stream_.avail_in == 0)
          fail(kOp, "'{}': corrupt gzip stream (the compressed data ends before the end of the stream)", name_);
      }
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        member_ended_ = true;
      } else if (rc != Z_OK) {
        fail(kOp, "'{}': corrupt gzip stream ({})", name_, stream_.msg ? stream_.msg : zError(rc));
      }
    }
    return n - stream_.avail_out;
  }
  std::optional<std::uint64_t> total_size() const override { return std::nullopt; }
  std::string_view noun() const override { return "the decompressed data"; }

 private:
  void refill() {
    const std::size_t got = std::fread(buffer_.data(), 1, buffer_.size(), file_);
    if (got == 0 && std::ferror(file_)) fail(kOp, "'{}': read error ({})", name_, std::strerror(errno));
    stream_.next_in = buffer_.data();
    stream_.avail_in = static_cast<uInt>(got);
  }

  std::FILE* file_;
  const std::string& name_;
  z_stream stream_{};
  bool member_ended_ = false;
  std::array<Bytef, 1 << 16> buffer_{};
};

std::string_view element_type_name(std::uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX element type";
  }
}

// "1 dimension", "3 dimensions".
std::string dimensions(int n) { return std::to_string(n) + (n == 1 ? " dimension" : " dimensions"); }

std::string dims_string(const std::vector<std::int64_t>& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? " x " : "") + std::to_string(dims[i]);
  return text;
}

// Returns the source of `file` (open at its start, `file_size` bytes): gzip is recognised by its two magic
// bytes, whatever the file is called.
std::unique_ptr<Source> open_source(std::FILE* file, std::uint64_t file_size, const std::string& name) {
  std::array<std::uint8_t, 2> lead{};
  const std::size_t lead_got = std::fread(lead.data(), 1, lead.size(), file);
  std::rewind(file);
  if (lead_got == 2 && lead[0] == 0x1f && lead[1] == 0x8b) return std::make_unique<GzipSource>(file, name);
  return std::make_unique<RawSource>(file, file_size, name);
}

// Reads the header: the magic number (two zero bytes, the element type, the number of dimensions) and the
// dimension sizes (big-endian uint32 each); returns the sizes.
std::vector<std::int64_t> read_header(Source& source, const std::string& name, int expected_dims) {
  std::array<std::uint8_t, 4> magic{};
  const std::size_t magic_got = source.read(magic.data(), magic.size());
  if (magic_got < magic.size())
    fail(kOp, "'{}': truncated: {} holds {} bytes, fewer than the 4-byte magic number", name, source.noun(),
         magic_got);
  if (magic[0] != 0 || magic[1] != 0)
    fail(kOp,
         "'{}': wrong magic number: found bytes {:02x} {:02x} {:02x} {:02x}, expected 00 00 08 {:02x} "
         "(IDX, unsigned bytes, {})",
         name, magic[0], magic[1], magic[2], magic[3], expected_dims, dimensions(expected_dims));
  if (magic[2] != 0x08)
    fail(kOp, "'{}': unsupported element type 0x{:02x} ({}); only 0x08 (unsigned byte) is supported", name, magic[2],
         element_type_name(magic[2]));
  if (magic[3] != expected_dims)
    fail(kOp, "'{}': has {}, expected {}", name, dimensions(magic[3]), expected_dims);
  std::vector<std::uint8_t> header(4 * static_cast<std::size_t>(expected_dims));
  const std::size_t header_got = source.read(header.data(), header.size());
  if (header_got < header.size())
    fail(kOp, "'{}': truncated: the header needs {} bytes for {}, {} holds {}", name, 4 + header.size(),
         dimensions(expected_dims), source.noun(), 4 + header_got);
  std::vector<std::int64_t> dims;
  for (int d = 0; d < expected_dims; ++d) {
    const std::uint8_t* b = header.data() + 4 * d;
    dims.push_back((std::int64_t{b[0]} << 24) | (std::int64_t{b[1]} << 16) | (std::int64_t{b[2]} << 8) |
                   std::int64_t{b[3]});
  }
  return dims;
}

// Returns the payload bytes that `dims` claim, refusing a claim above kMaxIdxPayloadBytes. The product stops
// as soon as it passes the bound: before each multiplication it is <= 2^32 and a dimension is < 2^32, so it
// never overflows. (Any zero dimension makes the payload empty, whatever the others claim.)
std::uint64_t claimed_payload(const std::vector<std::int64_t>& dims, const std::string& name) {
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return 0;
  std::uint64_t payload = 1;
  for (const std::int64_t size : dims) {
    payload *= static_cast<std::uint64_t>(size);
    if (payload > static_cast<std::uint64_t>(kMaxIdxPayloadBytes))
      fail(kOp, "'{}': the header claims {} payload bytes, more than the {} this reader accepts", name,
           dims_string(dims), kMaxIdxPayloadBytes);
  }
  return payload;
}

// Reads the `payload` bytes the header claims into result.data, then checks that nothing follows them. For a
// raw file the claim is checked against the file size before allocating. For gzip, whose decompressed size is
// not known ahead, the payload is decompressed chunk by chunk and the vector grows only with the bytes
// actually produced: a false claim fails as truncated once the stream ends, having allocated in proportion to
// the data really there (at most about twice it plus one chunk), never to the claim. Reading a gzip stream to
// its end also makes zlib verify its CRC-32.
void read_payload(Source& source, std::uint64_t payload, std::uint64_t header_bytes, const std::string& name,
                  IdxArray& result) {
  if (const auto total = source.total_size()) {
    const std::uint64_t present = *total - header_bytes;
    if (present < payload)
      fail(kOp, "'{}': truncated: the header claims {} = {} payload bytes, the file holds {}", name,
           dims_string(result.dims), payload, present);
    result.data.reserve(payload);
  }
  while (result.data.size() < payload) {
    const std::size_t old = result.data.size();
    const std::size_t want = std::min<std::uint64_t>(kChunk, payload - old);
    result.data.resize(old + want);
    const std::size_t got = source.read(result.data.data() + old, want);
    if (got < want)
      fail(kOp, "'{}': truncated: the header claims {} = {} payload bytes, {} holds {}", name,
           dims_string(result.dims), payload, source.noun(), old + got);
  }
  std::array<std::uint8_t, 4096> rest{};
  std::uint64_t extra = 0;
  while (const std::size_t got = source.read(rest.data(), rest.size())) extra += got;
  if (extra > 0)
    fail(kOp, "'{}': {} holds {} bytes after the {} payload bytes that the header claims", name, source.noun(),
         extra, payload);
}

// Reads the IDX data of `file` (open for reading at its start, `file_size` bytes), named `name` in errors. A
// header may claim anything; nothing is allocated from its claim until it has been checked.
IdxArray read_idx_stream(std::FILE* file, std::uint64_t file_size, const std::string& name, int expected_dims) {
  if (expected_dims < 1 || expected_dims > 255)
    fail(kOp, "'{}': expected_dims must be in 1..255, got {}", name, expected_dims);
  const std::unique_ptr<Source> source = open_source(file, file_size, name);
  IdxArray result;
  result.dims = read_header(*source, name, expected_dims);
  const std::uint64_t payload = claimed_payload(result.dims, name);
  read_payload(*source, payload, 4 + 4 * static_cast<std::uint64_t>(expected_dims), name, result);
  return result;
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& path, int expected_dims) {
  const std::string name = path.string();
  if (expected_dims < 1 || expected_dims > 255)
    fail(kOp, "'{}': expected_dims must be in 1..255, got {}", name, expected_dims);

  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) fail(kOp, "'{}': no such file", name);
  if (std::filesystem::is_directory(status)) fail(kOp, "'{}': is a directory, not an IDX file", name);
  FilePtr file(std::fopen(name.c_str(), "rb"));
  if (!file) fail(kOp, "'{}': cannot open the file for reading ({})", name, std::strerror(errno));
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) fail(kOp, "'{}': cannot read the file size ({})", name, ec.message());
  return read_idx_stream(file.get(), file_size, name, expected_dims);
}

IdxArray read_idx_bytes(std::span<const std::uint8_t> bytes, const std::string& name, int expected_dims) {
  // fmemopen gives the same stdio stream that read_idx reads a file through; "r" never writes to the buffer.
  static std::uint8_t empty_buffer = 0;
  void* buffer = bytes.empty() ? &empty_buffer : const_cast<std::uint8_t*>(bytes.data());
  FilePtr file(fmemopen(buffer, bytes.size(), "rb"));
  if (!file) fail(kOp, "'{}': cannot open the bytes as a stream ({})", name, std::strerror(errno));
  return read_idx_stream(file.get(), bytes.size(), name, expected_dims);
}

}  // namespace ag::data
