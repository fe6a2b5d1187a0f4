#include "nn/data/mnist.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>

#include <sys/stat.h>

#include "autograd/bytes.h"
#include "autograd/error.h"
#include "autograd/parallel.h"
#include "nn/data/idx.h"
#include "nn/data/input_file.h"

namespace ag::data {
namespace {

constexpr std::int64_t kSide = 28;  // MNIST and Fashion-MNIST images are 28x28
constexpr std::uint8_t kClasses = 10;

constexpr std::string_view kOp = "load_mnist_split";

// True when `path` names something (a file, a folder, a link to one); false when nothing is there. Any other
// answer of the system (a loop of symbolic links, a link to nothing, no permission) is an error naming it: such
// a path is not missing, and saying so would hide the cause.
bool present(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return true;
  const int error = errno;
  if (error == ENOENT && ::lstat(path.c_str(), &st) == 0) {
    std::error_code ec;
    fail(kOp, "'{}': a symbolic link to {}, which does not exist", path.string(),
         std::filesystem::read_symlink(path, ec).string());
  }
  if (error != ENOENT) fail(kOp, "'{}': {}", path.string(), std::strerror(error));
  return false;
}

// Fails unless `dir` is a folder (after following links), naming what it is otherwise.
void require_folder(const std::filesystem::path& dir) {
  if (!present(dir)) fail(kOp, "'{}': no such directory", dir.string());
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    const std::string special = describe_special_file(dir);
    fail(kOp, "'{}': is {}, not a directory (data.dir names the folder that holds the IDX files)", dir.string(),
         special.empty() ? "a regular file" : special);
  }
}

// Returns dir/base, or dir/base.gz when only that exists; throws when neither does.
std::filesystem::path find_idx(const std::filesystem::path& dir, const std::string& base) {
  const std::filesystem::path raw = dir / base;
  if (present(raw)) return raw;
  std::filesystem::path gz = dir / (base + ".gz");
  if (present(gz)) return gz;
  fail(kOp, "'{}' holds neither {} nor {}.gz", dir.string(), base, base);
}

/// The work of one pixel of a batch's canvas in parallel_for's units (autograd/parallel.h): the byte's
/// conversion and a row's share of the calls and fills around it, a couple of element operations; a batch of
/// 16 images is then worth a second thread.
constexpr std::int64_t kWorkPerPixel = 3;

template <class T>
void fill_batch_impl(const Dataset& data, std::span<const std::int64_t> indices, const Normalisation& norm,
                     T* out_images, std::int64_t* out_labels) {
  constexpr std::string_view op = "fill_batch";
  const std::int64_t rows = data.rows, cols = data.cols, side = norm.size;
  if (data.count < 0 || rows < 0 || cols < 0 ||
      data.images.size() != static_cast<std::size_t>(data.count * rows * cols) ||
      data.labels.size() != static_cast<std::size_t>(data.count))
    fail(op, "inconsistent dataset: count {}, {} x {} images, but {} image bytes and {} labels", data.count, rows,
         cols, data.images.size(), data.labels.size());
  if (side < rows || side < cols || (side - rows) % 2 != 0 || (side - cols) % 2 != 0)
    fail(op, "cannot centre {} x {} images on a {} x {} canvas (each margin must be even and >= 0)", rows, cols,
         side, side);
  for (std::size_t b = 0; b < indices.size(); ++b)
    if (indices[b] < 0 || indices[b] >= data.count)
      fail(op, "index {} at batch position {} is outside 0..{}", indices[b], b, data.count - 1);
  if (indices.empty()) return;
  if (!out_images) fail(op, "out_images is null for a batch of {}", indices.size());

  // p -> p step + offset in the element type, vectorised (ag::scale_byte_rows); a 256-entry table would be a
  // scalar load and store per pixel.
  const T step = static_cast<T>(norm.scale / 255.0), offset = static_cast<T>(norm.offset);
  const T background = offset;
  const std::int64_t top = (side - rows) / 2, left = (side - cols) / 2;

  // The samples go in the kernels' chunks of the batch, each on the thread that will then tend to run the
  // chunk's first layer (autograd/parallel.h), so that its images are already in that core's cache.
  // The images of a shuffled batch are scattered over the whole set (47 MB for MNIST's training split), so
  // each one's bytes are fetched a few images ahead rather than on demand, cache miss by cache miss.
  constexpr std::size_t kAhead = 4;
  const std::int64_t image_bytes = rows * cols, samples = static_cast<std::int64_t>(indices.size());
  const std::int64_t chunks = batch_chunks(samples);
  parallel_for(chunks, [&](std::int64_t chunk) {
    const auto first = static_cast<std::size_t>(chunk * samples / chunks);
    const auto last = static_cast<std::size_t>((chunk + 1) * samples / chunks);
    prefetch_images(data, indices.subspan(first, std::min(kAhead, last - first)));
    for (std::size_t b = first; b < last; ++b) {
      if (b + kAhead < last) prefetch_images(data, indices.subspan(b + kAhead, 1));
      T* canvas = out_images + static_cast<std::int64_t>(b) * side * side;
      std::fill_n(canvas, side * side, background);  // then the image over it, in one call
      scale_byte_rows(data.images.data() + indices[b] * image_bytes, rows, cols, step, offset,
                      canvas + top * side + left, side);
      if (out_labels) out_labels[b] = data.labels[static_cast<std::size_t>(indices[b])];
    }
  }, kWorkPerPixel * samples * side * side);
}

}  // namespace

Normalisation Normalisation::paper() { return Normalisation{-0.1, 1.275, 32}; }

Normalisation Normalisation::modern(PixelStats stats, std::int64_t size) {
  if (!(stats.stddev > 0) || !std::isfinite(stats.stddev) || !std::isfinite(stats.mean))
    fail("Normalisation::modern", "needs a finite mean and a positive finite stddev, got mean {} and stddev {}",
         stats.mean, stats.stddev);
  return Normalisation{-stats.mean / stats.stddev, 1.0 / stats.stddev, size};
}

Dataset load_mnist_split(const std::filesystem::path& dir, std::string_view split, std::optional<std::int64_t> limit) {
  constexpr std::string_view op = kOp;
  if (split != "train" && split != "test") fail(op, "split must be \"train\" or \"test\", got \"{}\"", split);
  if (limit && *limit < 0) fail(op, "limit must be >= 0, got {}", *limit);
  require_folder(dir);

  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::filesystem::path image_path = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::filesystem::path label_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
  // The image size is checked on the header, before the payload is read or decompressed.
  IdxArray images = read_idx(image_path, IdxExpectation{3, {kSide, kSide}, "images"});
  IdxArray labels = read_idx(label_path, IdxExpectation{1, {}, "labels"});

  if (images.dims[0] != labels.dims[0])
    fail(op, "'{}' holds {} images but '{}' holds {} labels", image_path.string(), images.dims[0],
         label_path.string(), labels.dims[0]);
  for (std::size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= kClasses)
      fail(op, "'{}': label {} at index {} is outside 0..9", label_path.string(), labels.data[i], i);

  Dataset data;
  data.count = images.dims[0];
  data.rows = kSide;
  data.cols = kSide;
  if (limit && *limit < data.count) {
    data.count = *limit;
    images.data.resize(static_cast<std::size_t>(data.count * kSide * kSide));
    images.data.shrink_to_fit();
    labels.data.resize(static_cast<std::size_t>(data.count));
    labels.data.shrink_to_fit();
  }
  data.images = std::move(images.data);
  data.labels = std::move(labels.data);
  return data;
}

void prefetch_images(const Dataset& data, std::span<const std::int64_t> indices) {
  const std::int64_t image_bytes = data.rows * data.cols;
  if (image_bytes <= 0 || data.images.size() != static_cast<std::size_t>(data.count * image_bytes)) return;
  for (const std::int64_t index : indices) {
    if (index < 0 || index >= data.count) continue;
    const std::uint8_t* image = data.images.data() + index * image_bytes;
    for (std::int64_t at = 0; at < image_bytes; at += 64) __builtin_prefetch(image + at);
  }
}

void fill_batch(const Dataset& data, std::span<const std::int64_t> indices, const Normalisation& norm,
                float* out_images, std::int64_t* out_labels) {
  fill_batch_impl(data, indices, norm, out_images, out_labels);
}

void fill_batch(const Dataset& data, std::span<const std::int64_t> indices, const Normalisation& norm,
                double* out_images, std::int64_t* out_labels) {
  fill_batch_impl(data, indices, norm, out_images, out_labels);
}

Batch make_batch(const Dataset& data, std::span<const std::int64_t> indices, const Normalisation& norm,
                 DType dtype) {
  if (dtype == DType::i64) fail("make_batch", "images must be float32 or float64, got int64");
  const auto batch = static_cast<std::int64_t>(indices.size());
  Batch result{empty({batch, 1, norm.size, norm.size}, dtype), empty({batch}, DType::i64)};
  std::int64_t* labels = result.labels.mutable_data<std::int64_t>();
  if (dtype == DType::f32) fill_batch(data, indices, norm, result.images.mutable_data<float>(), labels);
  else fill_batch(data, indices, norm, result.images.mutable_data<double>(), labels);
  return result;
}

PixelStats pixel_stats(const Dataset& data) {
  if (data.images.empty()) return {};
  // A histogram keeps the sums exact however many pixels there are.
  std::array<std::uint64_t, 256> histogram{};
  for (const std::uint8_t p : data.images) ++histogram[p];
  const double n = static_cast<double>(data.images.size());
  double mean = 0;
  for (int p = 0; p < 256; ++p) mean += static_cast<double>(histogram[p]) * (p / 255.0);
  mean /= n;
  double variance = 0;
  for (int p = 0; p < 256; ++p) variance += static_cast<double>(histogram[p]) * std::pow(p / 255.0 - mean, 2);
  return {mean, std::sqrt(variance / n)};
}

std::vector<std::int64_t> shuffled_indices(std::int64_t n, Generator& gen) {
  if (n < 0) fail("shuffled_indices", "n must be >= 0, got {}", n);
  std::vector<std::int64_t> indices(static_cast<std::size_t>(n));
  std::iota(indices.begin(), indices.end(), std::int64_t{0});
  for (std::int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(i) + 1));
    std::swap(indices[static_cast<std::size_t>(i)], indices[static_cast<std::size_t>(j)]);
  }
  return indices;
}

}  // namespace ag::data
