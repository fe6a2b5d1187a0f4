#pragma once
/// MNIST-format datasets (MNIST, Fashion-MNIST): loading a split, seeded shuffling, and batch conversion
/// from the compact uint8 images to normalised, optionally padded float images.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "autograd/random.h"
#include "autograd/tensor.h"

namespace ag::data {

/// One split of an MNIST-format dataset, kept compact as bytes and converted per batch by fill_batch.
struct Dataset {
  std::vector<std::uint8_t> images;  ///< [count, rows, cols] pixels, 0 = background, 255 = ink.
  std::vector<std::uint8_t> labels;  ///< [count] class indices, each in 0..9.
  std::int64_t count = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

/// The mean and standard deviation of the pixel values scaled to [0, 1].
struct PixelStats {
  double mean = 0;
  double stddev = 0;
};

/// Customary MNIST pixel statistics (of pixel/255 over the training images) for Normalisation::modern.
inline constexpr PixelStats kMnistStats{0.1307, 0.3081};
/// Customary Fashion-MNIST pixel statistics (of pixel/255 over the training images).
inline constexpr PixelStats kFashionMnistStats{0.2860, 0.3530};

/// How fill_batch maps a pixel p in 0..255 to a value: offset + scale * p / 255 (computed in the batch's
/// element type as p (scale / 255) + offset, rounded once or twice), on a size x size canvas
/// with the image centred and the margin filled with the background value (that of p = 0, i.e. offset).
struct Normalisation {
  double offset = 0.0;     ///< The value of a background pixel (p = 0), also used for the padding.
  double scale = 1.0;      ///< The value of p = 255 minus offset.
  std::int64_t size = 28;  ///< The output side S; S - rows and S - cols must be even and >= 0.

  /// The paper's mapping: x = -0.1 + 1.275 * p/255 (background -0.1, ink 1.175), padded to 32x32.
  static Normalisation paper();
  /// The modern mapping: x = (p/255 - mean) / stddev, on size x size (28, or 32 to pad 2 pixels a side).
  static Normalisation modern(PixelStats stats = kMnistStats, std::int64_t size = 28);
};

/// Loads split "train" (train-images-idx3-ubyte, train-labels-idx1-ubyte) or "test" (t10k-...) from `dir`,
/// each file raw or with a .gz suffix (raw preferred when both exist). Checks that image and label counts
/// agree, labels are in 0..9 and images are 28x28. `limit`, when given (>= 0), keeps only the first
/// min(limit, count) samples. Throws ag::Error naming the file and the fault.
Dataset load_mnist_split(const std::filesystem::path& dir, std::string_view split,
                         std::optional<std::int64_t> limit = std::nullopt);

/// Writes the samples `indices` (B of them) of `data` as images [B,1,S,S] to out_images (S = norm.size) and
/// their labels [B] to out_labels (skipped when null). Throws ag::Error for an index outside 0..count-1 or
/// a size that cannot centre the images.
void fill_batch(const Dataset& data, std::span<const std::int64_t> indices, const Normalisation& norm,
                float* out_images, std::int64_t* out_labels);
/// As above, writing float64 images [B,1,S,S] (for gradient checks).
void fill_batch(const Dataset& data, std::span<const std::int64_t> indices, const Normalisation& norm,
                double* out_images, std::int64_t* out_labels);

/// Asks the CPU to bring the image bytes of samples `indices` into the cache: a hint with no effect on any
/// result, e.g. for the next batch while this one trains (a shuffled batch's images are scattered over the
/// whole set, and each is otherwise a run of cache misses). Indices outside 0..count-1 are skipped.
void prefetch_images(const Dataset& data, std::span<const std::int64_t> indices);

/// A batch as tensors: images [B,1,S,S] (float32 or float64) and labels [B] (int64).
struct Batch {
  Tensor images;
  Tensor labels;
};

/// Returns the samples `indices` of `data` as a Batch of tensors, images of `dtype` (f32 or f64) [B,1,S,S].
Batch make_batch(const Dataset& data, std::span<const std::int64_t> indices, const Normalisation& norm,
                 DType dtype = DType::f32);

/// Returns the mean and standard deviation of pixel/255 over all images of `data` (0, 0 when it is empty).
PixelStats pixel_stats(const Dataset& data);

/// Returns a uniformly random permutation of 0..n-1 (Fisher-Yates with gen.below()); n >= 0.
std::vector<std::int64_t> shuffled_indices(std::int64_t n, Generator& gen);

}  // namespace ag::data
