// fault_fixture: writes the inputs of the fault tests: a small learnable MNIST-format dataset, data folders
// that are each wrong in one way, and checkpoints that are each wrong in one way.
//
//   fault_fixture dataset DIR COUNT SEED      four raw IDX files: COUNT samples, the same for train and test
//   fault_fixture bad-data ROOT               ROOT/<case>/: one folder per data fault (see make_bad_data)
//   fault_fixture bad-checkpoints RUN ROOT    ROOT/<case>/: RUN's config.json beside a damaged checkpoint.bin
//   fault_fixture bad-configs ROOT            ROOT/<case>.json: config files no text editor writes
//   fault_fixture same-weights A B            exit 0 when the checkpoints A and B hold bitwise equal tensors
//
// Exit status 0 on success, 1 with a message on stderr otherwise.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/random.h"
#include "support/idx_writer.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::string;  // raw bytes

Bytes read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const fs::path& path, const Bytes& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// ----- IDX ---------------------------------------------------------------------------------------------------
// The IDX and gzip writers and the dataset are tests/support/idx_writer.h's, shared with the data and training
// tests. They work on std::vector<uint8_t>; the fault cases here splice bytes as strings (substr, +), so the
// bytes are converted at this boundary.

Bytes as_string(const test::Bytes& bytes) { return Bytes(bytes.begin(), bytes.end()); }
test::Bytes as_bytes(const Bytes& bytes) { return test::Bytes(bytes.begin(), bytes.end()); }

Bytes idx(const std::vector<std::uint32_t>& dims, const Bytes& payload, std::uint8_t type = 0x08) {
  return as_string(test::idx_bytes(dims, as_bytes(payload), type));
}

Bytes gzip(const Bytes& data) { return as_string(test::gzip(as_bytes(data))); }

constexpr const auto& kFiles = test::kMnistFiles;

/// Writes ROOT/<case>/: a good 40-sample dataset with one file replaced (or removed) as the case says.
void make_bad_data(const fs::path& root) {
  constexpr std::uint32_t n = 40;
  const test::DigitSamples digits = test::learnable_digits(n, 11);
  const Bytes sample_images = as_string(digits.images), sample_labels = as_string(digits.labels);
  const Bytes images = idx({n, 28, 28}, sample_images), labels = idx({n}, sample_labels);
  // Each case: its folder name, and a change to the good files (name -> bytes; an empty name removes).
  using Files = std::vector<std::pair<std::string, Bytes>>;
  const auto replace = [](Files& files, const std::string& name, const Bytes& bytes) {
    for (auto& [file, data] : files)
      if (file == name) data = bytes;
  };
  const auto remove = [](Files& files, const std::string& name) {
    std::erase_if(files, [&](const auto& entry) { return entry.first == name; });
  };
  const std::vector<std::pair<std::string, std::function<void(Files&)>>> cases = {
      {"good", [](Files&) {}},
      {"good_gz",
       [](Files& f) {
         for (auto& [file, data] : f) file += ".gz", data = gzip(data);
       }},
      {"missing_train_labels", [&](Files& f) { remove(f, kFiles[1]); }},
      {"missing_test_images", [&](Files& f) { remove(f, kFiles[2]); }},
      {"empty_images", [&](Files& f) { replace(f, kFiles[0], ""); }},
      // The magic written little-endian, as a careless writer would: 03 08 00 00.
      {"little_endian_magic", [&](Files& f) { replace(f, kFiles[0], Bytes("\x03\x08\x00\x00", 4) + images.substr(4)); }},
      {"text_file_as_images", [&](Files& f) { replace(f, kFiles[0], "this is not an IDX file\n"); }},
      {"float_element_type", [&](Files& f) { replace(f, kFiles[0], idx({n, 28, 28}, sample_images, 0x0D)); }},
      {"images_with_2_dims", [&](Files& f) { replace(f, kFiles[0], idx({n, 784}, sample_images)); }},
      {"labels_with_3_dims", [&](Files& f) { replace(f, kFiles[1], images); }},
      {"images_32x32", [&](Files& f) { replace(f, kFiles[0], idx({n, 32, 32}, Bytes(n * 32 * 32, '\0'))); }},
      {"truncated_header", [&](Files& f) { replace(f, kFiles[0], images.substr(0, 10)); }},
      {"truncated_payload", [&](Files& f) { replace(f, kFiles[0], images.substr(0, images.size() - 1000)); }},
      {"trailing_bytes", [&](Files& f) { replace(f, kFiles[1], labels + "junk"); }},
      {"counts_differ", [&](Files& f) { replace(f, kFiles[1], idx({n - 4}, sample_labels.substr(0, n - 4))); }},
      {"test_counts_differ", [&](Files& f) { replace(f, kFiles[3], idx({n + 1}, sample_labels + Bytes(1, '\3'))); }},
      {"label_out_of_range",
       [&](Files& f) {
         Bytes bad = sample_labels;
         bad[7] = 10;
         replace(f, kFiles[1], idx({n}, bad));
       }},
      {"no_samples",
       [&](Files& f) {
         replace(f, kFiles[0], idx({0, 28, 28}, ""));
         replace(f, kFiles[1], idx({0}, ""));
       }},
      // A header claiming all of MNIST (60000 images, 47 MB) in a file of 40 images.
      {"huge_claim", [&](Files& f) { replace(f, kFiles[0], idx({60000, 28, 28}, sample_images)); }},
      // A header claiming 2^32-1 x 2^16 x 2^16 bytes: far over any limit, rejected before allocating.
      {"absurd_claim", [&](Files& f) { replace(f, kFiles[0], idx({0xffffffffu, 65536, 65536}, sample_images)); }},
      // The same false claim inside a gzip stream, where the size is only known by decompressing.
      {"huge_claim_gz",
       [&](Files& f) {
         remove(f, kFiles[0]);
         f.emplace_back(std::string(kFiles[0]) + ".gz", gzip(idx({60000, 28, 28}, sample_images)));
       }},
      {"corrupt_gzip",
       [&](Files& f) {
         Bytes z = gzip(images);
         for (std::size_t i = z.size() / 3; i < z.size() / 3 + 16; ++i) z[i] = static_cast<char>(z[i] ^ 0x5a);
         remove(f, kFiles[0]);
         f.emplace_back(std::string(kFiles[0]) + ".gz", z);
       }},
      {"truncated_gzip",
       [&](Files& f) {
         remove(f, kFiles[1]);
         f.emplace_back(std::string(kFiles[1]) + ".gz", gzip(labels).substr(0, 20));
       }},
      // The gzip trailer's CRC-32 damaged: the data inflate cleanly but do not match their checksum.
      {"gzip_bad_crc",
       [&](Files& f) {
         Bytes z = gzip(labels);
         z[z.size() - 8] = static_cast<char>(z[z.size() - 8] ^ 1);
         remove(f, kFiles[1]);
         f.emplace_back(std::string(kFiles[1]) + ".gz", z);
       }},
      {"images_is_directory", [&](Files& f) { replace(f, kFiles[0], "<dir>"); }},
  };
  for (const auto& [name, change] : cases) {
    Files files = {{kFiles[0], images}, {kFiles[1], labels}, {kFiles[2], images}, {kFiles[3], labels}};
    change(files);
    const fs::path dir = root / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& [file, data] : files) {
      if (data == "<dir>") fs::create_directories(dir / file);
      else write_all(dir / file, data);
    }
  }
}

// ----- checkpoints -------------------------------------------------------------------------------------------
// The layout of docs/checkpoint.md: magic (8) | version u32 | header length u64 | header | tensors | FNV-1a u64.

std::uint64_t fnv1a(const Bytes& data) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

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

void make_bad_checkpoints(const fs::path& run, const fs::path& root) {
  const Bytes good = read_all(run / "checkpoint.bin");
  const Bytes config = read_all(run / "config.json");
  const Checkpoint parts = split(good);
  const nlohmann::json header = nlohmann::json::parse(parts.header);
  const auto with_header = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json h = header;
    change(h);
    Checkpoint c = parts;
    c.header = h.dump();
    return join(c);
  };
  const std::vector<std::pair<std::string, Bytes>> cases = {
      {"good", good},
      {"empty", ""},
      {"ten_bytes", good.substr(0, 10)},
      {"truncated", good.substr(0, good.size() - 100)},
      {"half", good.substr(0, good.size() / 2)},
      {"bit_flip",
       [&] {
         Bytes b = good;
         b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 0x10);
         return b;
       }()},
      {"bad_magic", "PK\x03\x04" + good.substr(4)},
      {"version_2",
       [&] {
         Checkpoint c = parts;
         c.version = 2;
         return join(c);
       }()},
      {"header_not_json",
       [&] {
         Checkpoint c = parts;
         c.header = "{\"variant\": \"lecun1998\", ";
         return join(c);
       }()},
      {"header_length_past_end",
       [&] {
         Bytes b = good;
         const Bytes huge = le<std::uint64_t>(~std::uint64_t{0} - 5);
         b.replace(12, 8, huge);
         return b;
       }()},
      {"header_missing_tensors", with_header([](nlohmann::json& h) { h.erase("tensors"); })},
      {"header_epoch_is_text", with_header([](nlohmann::json& h) { h["epoch"] = "one"; })},
      {"header_negative_epoch", with_header([](nlohmann::json& h) { h["epoch"] = -3; })},
      {"header_bad_rng_state", with_header([](nlohmann::json& h) { h["rng_state"] = "not a state"; })},
      {"header_other_shape", with_header([](nlohmann::json& h) { h["tensors"][0]["shape"] = {3, 1, 5, 5}; })},
      {"header_negative_shape", with_header([](nlohmann::json& h) { h["tensors"][0]["shape"] = {-1}; })},
      {"header_huge_shape",
       with_header([](nlohmann::json& h) { h["tensors"][0]["shape"] = {4611686018427387904LL, 4}; })},
      {"header_unknown_dtype", with_header([](nlohmann::json& h) { h["tensors"][0]["dtype"] = "bfloat16"; })},
      {"header_missing_tensor", with_header([](nlohmann::json& h) { h["tensors"].erase(0); })},
      {"header_other_variant", with_header([](nlohmann::json& h) { h["variant"] = "modern"; })},
      {"header_batches_done_too_many", with_header([](nlohmann::json& h) { h["batches_done"] = 1000; })},
      {"header_tensor_twice",
       [&] {
         nlohmann::json h = header;
         h["tensors"].push_back(h["tensors"][0]);
         Checkpoint c = parts;
         c.header = h.dump();
         c.tensors += c.tensors.substr(0, 6 * 25 * 4);  // c1.weight [6,1,5,5] float32 again
         return join(c);
       }()},
      {"trailing_bytes",
       [&] {
         Checkpoint c = parts;
         c.tensors += "extra";
         return join(c);
       }()},
  };
  for (const auto& [name, bytes] : cases) {
    const fs::path dir = root / name;
    fs::remove_all(dir);
    write_all(dir / "config.json", config);
    write_all(dir / "checkpoint.bin", bytes);
  }
  // A run folder whose checkpoint is missing, and one whose checkpoint is a directory.
  write_all(root / "missing" / "config.json", config);
  fs::remove_all(root / "is_directory");
  write_all(root / "is_directory" / "config.json", config);
  fs::create_directories(root / "is_directory" / "checkpoint.bin");
}

/// Writes config files that cannot be written as text: bytes that are not UTF-8, a NUL byte, UTF-16, binary.
void make_bad_configs(const fs::path& root) {
  fs::create_directories(root);
  write_all(root / "not_utf8.json", "{\"output\": {\"dir\": \"\xff\xfe\"}}");
  write_all(root / "nul_byte.json", Bytes("{\"train\": {\"epochs\": 3}}\0{\"train\": {\"epochs\": 4}}", 49));
  Bytes utf16;
  for (const char c : std::string("{\"train\": {\"epochs\": 3}}")) utf16 += Bytes{c, '\0'};
  write_all(root / "utf16.json", utf16);
  Bytes binary;
  ag::Generator gen(99);
  while (binary.size() < 256) binary.push_back(static_cast<char>(gen.next() % 256 | 0x80));
  write_all(root / "binary.json", binary);
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
    fmt::print(stderr, "fault_fixture: the headers of {} and {} differ:\n{}\n{}\n", a.string(), b.string(),
               x.header, y.header);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 4 && args[0] == "dataset") {
      test::write_learnable_mnist(args[1], static_cast<std::uint32_t>(std::stoul(args[2])), std::stoull(args[3]));
    } else if (args.size() == 2 && args[0] == "bad-data") {
      make_bad_data(args[1]);
    } else if (args.size() == 3 && args[0] == "bad-checkpoints") {
      make_bad_checkpoints(args[1], args[2]);
    } else if (args.size() == 2 && args[0] == "bad-configs") {
      make_bad_configs(args[1]);
    } else if (args.size() == 3 && args[0] == "same-weights") {
      return same_weights(args[1], args[2]) ? 0 : 1;
    } else {
      fmt::print(stderr,
                 "usage: fault_fixture dataset DIR COUNT SEED | bad-data ROOT | bad-checkpoints RUN ROOT | "
                 "bad-configs ROOT | same-weights A B\n");
      return 2;
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fault_fixture: {}\n", e.what());
    return 1;
  }
}
