#pragma once
// Writers for the IDX files the data loaders read, raw and gzip-compressed, and for a small learnable
// MNIST-format dataset. Shared by the data tests, the training tests and tests/faults/fault_fixture, so that
// every test that feeds the loaders builds its bytes the same way.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <autograd/random.h>

namespace test {

using Bytes = std::vector<std::uint8_t>;

/// Returns an IDX file's bytes: magic 00 00 type ndims, big-endian uint32 dims, then the payload as given.
inline Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& payload, std::uint8_t type = 0x08) {
  Bytes out{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(d >> shift));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

/// Returns `data` compressed as one gzip member (zlib's deflate with the gzip wrapper).
inline Bytes gzip(const Bytes& data) {
  z_stream s{};
  if (deflateInit2(&s, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  Bytes out(deflateBound(&s, static_cast<uLong>(data.size())) + 64);
  s.next_in = const_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

/// Writes `bytes` to `path`, replacing the file.
inline void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

/// Returns 0, 1, ..., n-1 modulo 256.
inline Bytes ramp(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i % 256);
  return out;
}

/// The four MNIST file names, in the order train images, train labels, test images, test labels.
inline constexpr std::array<const char*, 4> kMnistFiles = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/// Pixels and labels of a synthetic digit set: `images` is [count, 28, 28] row-major, `labels` is [count].
struct DigitSamples {
  Bytes images, labels;
};

/// Returns `count` samples whose label is n % 10 and whose image is a blurred blob placed by its label, plus
/// noise drawn from Generator(seed): the classes are learnable in a few epochs, unlike random pixels.
inline DigitSamples learnable_digits(std::uint32_t count, std::uint64_t seed) {
  ag::Generator gen(seed);
  DigitSamples s;
  for (std::uint32_t n = 0; n < count; ++n) {
    const int label = static_cast<int>(n % 10);
    s.labels.push_back(static_cast<std::uint8_t>(label));
    const double cy = 6 + 4 * (label / 4), cx = 6 + 5 * (label % 4);
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        const double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
        const double ink = 255 * std::exp(-d2 / 18) + 40 * gen.uniform();
        s.images.push_back(static_cast<std::uint8_t>(std::min(255.0, ink)));
      }
  }
  return s;
}

/// Writes learnable_digits(count, seed) into `dir` (created if missing) as the four raw MNIST IDX files:
/// images [count, 28, 28] and labels [count], both type 0x08; the test split holds the train split's samples.
inline void write_learnable_mnist(const std::filesystem::path& dir, std::uint32_t count, std::uint64_t seed) {
  const DigitSamples s = learnable_digits(count, seed);
  const Bytes images = idx_bytes({count, 28, 28}, s.images), labels = idx_bytes({count}, s.labels);
  std::filesystem::create_directories(dir);
  write_file(dir / kMnistFiles[0], images);
  write_file(dir / kMnistFiles[1], labels);
  write_file(dir / kMnistFiles[2], images);
  write_file(dir / kMnistFiles[3], labels);
}

}  // namespace test
