// fault_fixture: writes the inputs of the fault tests: a small learnable MNIST-format dataset, data folders
// that are each wrong in one way, and checkpoints that are each wrong in one way.
//
//   fault_fixture dataset DIR COUNT SEED      four raw IDX files: COUNT samples, the same for train and test
//   fault_fixture bad-data ROOT               ROOT/<case>/: one folder per data fault (see make_bad_data)
//   fault_fixture bad-checkpoints RUN ROOT    ROOT/<case>/: RUN's config.json beside a damaged checkpoint.bin
//   fault_fixture bad-configs ROOT            ROOT/<case>.json: config files no text editor writes
//   fault_fixture bad-images ROOT             ROOT/<file>: a good picture of a digit and malformed ones
//   fault_fixture bad-run-files RUN ROOT      ROOT/<case>/: RUN's files with metrics or summary not a regular file
//   fault_fixture same-weights A B            exit 0 when the checkpoints A and B hold bitwise equal tensors
//
// Exit status 0 on success, 1 with a message on stderr otherwise. The checkpoints are written by
// fixture_checkpoints.cpp, the pictures and run files by fixture_pictures.cpp.
#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "autograd/random.h"
#include "fixture_support.h"
#include "support/idx_writer.h"

namespace fixture {

Bytes read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const fs::path& path, const Bytes& bytes) {
  fs::create_directories(path.parent_path());
  fs::remove(path);
  if (bytes == "<dir>") {
    fs::create_directories(path);
  } else if (bytes == "<fifo>") {
    if (::mkfifo(path.c_str(), 0644) != 0) throw std::runtime_error("cannot make the FIFO " + path.string());
  } else if (bytes.starts_with("<link:")) {
    fs::create_symlink(bytes.substr(6, bytes.size() - 7), path);
  } else if (bytes.starts_with("<sparse:")) {
    std::ofstream(path).close();
    fs::resize_file(path, std::stoull(bytes.substr(8, bytes.size() - 9)));
  } else {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
}

std::uint64_t fnv1a(const Bytes& data) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

namespace {

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

/// Writes config files that cannot be written as text: bytes that are not UTF-8, a NUL byte, UTF-16, binary;
/// and config paths that are not regular files: a FIFO, a link to /dev/zero, a loop of links, 8 MB of zeros.
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
  write_all(root / "fifo.json", "<fifo>");
  write_all(root / "dev_zero.json", "<link:/dev/zero>");
  write_all(root / "loop.json", "<link:loop.json>");
  write_all(root / "huge.json", "<sparse:8388608>");
}

/// Writes ROOT/<case>/ for paths that are not regular files (each would block the open or be read without end): the
/// good dataset of ROOT/good with one file replaced by a special one; and ROOT/loop, a data.dir that is a loop of
/// symbolic links. Each marker is one of write_all's.
void make_special_data(const fs::path& root) {
  const std::vector<std::tuple<std::string, std::size_t, Bytes>> cases = {
      {"images_is_directory", 0, "<dir>"},
      {"images_fifo", 0, "<fifo>"},
      {"labels_dev_zero", 1, "<link:/dev/zero>"},
      {"images_dev_urandom", 0, "<link:/dev/urandom>"},
      {"images_loop", 0, std::string("<link:") + kFiles[0] + ">"},
      {"images_dangling", 0, "<link:/nonexistent/images>"},
      {"images_sparse_5g", 0, "<sparse:5368709120>"},
  };
  for (const auto& [name, replaced, marker] : cases) {
    const fs::path dir = root / name;
    fs::remove_all(dir);
    for (std::size_t i = 0; i < kFiles.size(); ++i)
      write_all(dir / kFiles[i], i == replaced ? marker : read_all(root / "good" / kFiles[i]));
  }
  write_all(root / "loop", "<link:loop>");
}

}  // namespace

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
      // A header claiming 2^32-1 images of 28 x 28: far over any limit, rejected before allocating.
      {"absurd_claim", [&](Files& f) { replace(f, kFiles[0], idx({0xffffffffu, 28, 28}, sample_images)); }},
      // A gzip file whose header claims one image of 65535 x 65535 and that holds 4 MB of zeros: refused on its
      // header, before a byte of the payload is decompressed (a reader that trusted it would first inflate them all).
      {"giant_images_gz",
       [&](Files& f) {
         remove(f, kFiles[0]);
         f.emplace_back(std::string(kFiles[0]) + ".gz", gzip(idx({1, 65535, 65535}, Bytes(4 << 20, '\0'))));
       }},
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
  };
  for (const auto& [name, change] : cases) {
    Files files = {{kFiles[0], images}, {kFiles[1], labels}, {kFiles[2], images}, {kFiles[3], labels}};
    change(files);
    const fs::path dir = root / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& [file, data] : files) write_all(dir / file, data);
  }
  make_special_data(root);
}

}  // namespace fixture

int main(int argc, char** argv) {
  using namespace fixture;
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
    } else if (args.size() == 2 && args[0] == "bad-images") {
      make_bad_images(args[1]);
    } else if (args.size() == 3 && args[0] == "bad-run-files") {
      make_bad_run_files(args[1], args[2]);
    } else if (args.size() == 3 && args[0] == "same-weights") {
      return same_weights(args[1], args[2]) ? 0 : 1;
    } else {
      fmt::print(stderr,
                 "usage: fault_fixture dataset DIR COUNT SEED | bad-data ROOT | bad-checkpoints RUN ROOT | "
                 "bad-configs ROOT | bad-images ROOT | bad-run-files RUN ROOT | same-weights A B\n");
      return 2;
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fault_fixture: {}\n", e.what());
    return 1;
  }
}
