// MNIST loading, batch conversion (the paper's and the modern normalisation, padding) and seeded shuffling.
#include <doctest/doctest.h>

#include <autograd/error.h>
#include <nn/data/mnist.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

#include "support/idx_writer.h"
#include "support/temp_dir.h"

using namespace test;
namespace data = ag::data;

namespace {

// Writes a small MNIST-format split: n images 28x28 whose pixel (r, c) of image i is (i + r * 28 + c) % 256,
// and labels i % 10, as <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte (with .gz when gz).
void write_split(const TempDir& dir, const std::string& prefix, std::uint32_t n, bool gz) {
  Bytes images(std::size_t{n} * 28 * 28), labels(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::size_t p = 0; p < 28 * 28; ++p) images[i * 28 * 28 + p] = static_cast<std::uint8_t>((i + p) % 256);
    labels[i] = static_cast<std::uint8_t>(i % 10);
  }
  const std::string suffix = gz ? ".gz" : "";
  const Bytes image_file = idx_bytes({n, 28, 28}, images), label_file = idx_bytes({n}, labels);
  write_file(dir / (prefix + "-images-idx3-ubyte" + suffix), gz ? gzip(image_file) : image_file);
  write_file(dir / (prefix + "-labels-idx1-ubyte" + suffix), gz ? gzip(label_file) : label_file);
}

// A dataset of `count` images rows x cols with the given pixels and labels 0, 1, 2, ...
data::Dataset small_dataset(std::int64_t count, std::int64_t rows, std::int64_t cols, Bytes pixels) {
  data::Dataset d;
  d.images = std::move(pixels);
  for (std::int64_t i = 0; i < count; ++i) d.labels.push_back(static_cast<std::uint8_t>(i % 10));
  d.count = count;
  d.rows = rows;
  d.cols = cols;
  return d;
}

}  // namespace

TEST_CASE("load_mnist_split reads raw and gzip splits and applies a limit") {
  TempDir dir;
  write_split(dir, "train", 12, false);
  write_split(dir, "t10k", 5, true);
  const data::Dataset train = data::load_mnist_split(dir.path(), "train");
  CHECK(train.count == 12);
  CHECK(train.rows == 28);
  CHECK(train.cols == 28);
  CHECK(train.images.size() == 12u * 28 * 28);
  CHECK(train.labels == Bytes{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1});
  CHECK(train.images[3 * 784 + 5] == 8);
  const data::Dataset test = data::load_mnist_split(dir.path(), "test");
  CHECK(test.count == 5);
  CHECK(test.images[4 * 784 + 300] == 304 % 256);
  const data::Dataset first = data::load_mnist_split(dir.path(), "train", 3);
  CHECK(first.count == 3);
  CHECK(first.images.size() == 3u * 784);
  CHECK(first.labels == Bytes{0, 1, 2});
  CHECK(std::equal(first.images.begin(), first.images.end(), train.images.begin()));
  CHECK(data::load_mnist_split(dir.path(), "train", 100).count == 12);  // a limit above the count keeps all
  CHECK(data::load_mnist_split(dir.path(), "train", 0).count == 0);
}

TEST_CASE("load_mnist_split prefers the raw file when both raw and .gz exist") {
  TempDir dir;
  write_split(dir, "t10k", 4, false);
  write_file(dir / "t10k-images-idx3-ubyte.gz", {1, 2, 3});  // not even gzip: must not be read
  CHECK(data::load_mnist_split(dir.path(), "test").count == 4);
}

TEST_CASE("load_mnist_split errors name the file and the fault") {
  TempDir dir;
  const std::string d = dir.path().string();
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir.path(), "val"),
                       "load_mnist_split: split must be \"train\" or \"test\", got \"val\"", ag::Error);
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir / "nowhere", "train"),
                       ("load_mnist_split: '" + (dir / "nowhere").string() + "': no such directory").c_str(),
                       ag::Error);
  CHECK_THROWS_WITH_AS(
      data::load_mnist_split(dir.path(), "train"),
      ("load_mnist_split: '" + d + "' holds neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz").c_str(),
      ag::Error);
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir.path(), "train", -1), "load_mnist_split: limit must be >= 0, got -1",
                       ag::Error);
  // A path that is not a folder, or a loop of links, is said to be so, not missing.
  write_file(dir / "file", {1});
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir / "file", "train"),
                       ("load_mnist_split: '" + (dir / "file").string() +
                        "': is a regular file, not a directory (data.dir names the folder that holds the IDX files)")
                           .c_str(),
                       ag::Error);
  std::filesystem::create_symlink(dir / "loop", dir / "loop");
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir / "loop", "train"),
                       ("load_mnist_split: '" + (dir / "loop").string() + "': Too many levels of symbolic links")
                           .c_str(),
                       ag::Error);
  std::filesystem::create_symlink(dir / "nowhere", dir / "train-images-idx3-ubyte");
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir.path(), "train"),
                       ("load_mnist_split: '" + (dir / "train-images-idx3-ubyte").string() + "': a symbolic link to " +
                        (dir / "nowhere").string() + ", which does not exist")
                           .c_str(),
                       ag::Error);
  std::filesystem::remove(dir / "train-images-idx3-ubyte");

  // Image and label counts disagree.
  write_split(dir, "train", 6, false);
  write_file(dir / "train-labels-idx1-ubyte", idx_bytes({5}, {0, 1, 2, 3, 4}));
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir.path(), "train"),
                       ("load_mnist_split: '" + (dir / "train-images-idx3-ubyte").string() + "' holds 6 images but '" +
                        (dir / "train-labels-idx1-ubyte").string() + "' holds 5 labels")
                           .c_str(),
                       ag::Error);
  // A label outside 0..9.
  write_file(dir / "train-labels-idx1-ubyte", idx_bytes({6}, {0, 1, 2, 10, 4, 5}));
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir.path(), "train"),
                       ("load_mnist_split: '" + (dir / "train-labels-idx1-ubyte").string() +
                        "': label 10 at index 3 is outside 0..9")
                           .c_str(),
                       ag::Error);
  // Images that are not 28x28.
  write_file(dir / "train-images-idx3-ubyte", idx_bytes({6, 27, 28}, Bytes(6 * 27 * 28)));
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir.path(), "train"),
                       ("read_idx: '" + (dir / "train-images-idx3-ubyte").string() +
                        "': images are 27 x 28, expected 28 x 28")
                           .c_str(),
                       ag::Error);
  // Errors of the IDX reader come through unchanged.
  write_file(dir / "train-images-idx3-ubyte", idx_bytes({6, 28, 28}, Bytes(100)));
  CHECK_THROWS_WITH_AS(data::load_mnist_split(dir.path(), "train"),
                       ("read_idx: '" + (dir / "train-images-idx3-ubyte").string() +
                        "': truncated: the header claims 6 x 28 x 28 = 4704 payload bytes, the file holds 100")
                           .c_str(),
                       ag::Error);
}

TEST_CASE("fill_batch with the paper's normalisation: end points -0.1 and 1.175, padded to 32x32 with -0.1") {
  // Two 28x28 images: the first all background except ink (255) at (0,0) and (27,27), the second all ink.
  Bytes pixels(2 * 784, 0);
  pixels[0] = 255;
  pixels[783] = 255;
  std::fill(pixels.begin() + 784, pixels.end(), 255);
  const data::Dataset d = small_dataset(2, 28, 28, pixels);
  const data::Normalisation paper = data::Normalisation::paper();
  CHECK(paper.size == 32);
  const std::array<std::int64_t, 3> indices{1, 0, 1};
  std::vector<float> out(3 * 32 * 32, 99.0f);
  std::vector<std::int64_t> labels(3, -1);
  data::fill_batch(d, indices, paper, out.data(), labels.data());
  CHECK(labels == std::vector<std::int64_t>{1, 0, 1});
  const float bg = -0.1f, ink = 1.175f;
  auto at = [&](int b, int r, int c) { return out[static_cast<std::size_t>((b * 32 + r) * 32 + c)]; };
  for (int b = 0; b < 3; ++b)
    for (int r = 0; r < 32; ++r)
      for (int c = 0; c < 32; ++c) {
        const bool margin = r < 2 || r >= 30 || c < 2 || c >= 30;
        const bool inked = b != 1 || (r == 2 && c == 2) || (r == 29 && c == 29);
        CAPTURE(b);
        CAPTURE(r);
        CAPTURE(c);
        if (margin) REQUIRE(at(b, r, c) == bg);
        else REQUIRE(at(b, r, c) == (inked ? ink : bg));
      }
  // A mid-grey pixel maps linearly: -0.1 + 1.275 * 51/255 = 0.155.
  const data::Dataset grey = small_dataset(1, 28, 28, Bytes(784, 51));
  data::fill_batch(grey, std::array<std::int64_t, 1>{0}, paper, out.data(), nullptr);
  CHECK(out[2 * 32 + 2] == doctest::Approx(0.155).epsilon(1e-6));
}

TEST_CASE("fill_batch with the modern normalisation, on 28x28 and padded to 32x32, in float and double") {
  Bytes pixels(784);
  for (std::size_t p = 0; p < 784; ++p) pixels[p] = static_cast<std::uint8_t>(p % 256);
  const data::Dataset d = small_dataset(1, 28, 28, pixels);
  const data::PixelStats stats{0.25, 0.5};
  const std::array<std::int64_t, 1> first{0};

  std::vector<double> out28(784);
  data::fill_batch(d, first, data::Normalisation::modern(stats), out28.data(), nullptr);
  for (std::size_t p = 0; p < 784; ++p) REQUIRE(out28[p] == doctest::Approx((pixels[p] / 255.0 - 0.25) / 0.5));
  CHECK(out28[0] == doctest::Approx(-0.5));
  CHECK(out28[255] == doctest::Approx(1.5));

  std::vector<float> out32(32 * 32);
  data::fill_batch(d, first, data::Normalisation::modern(stats, 32), out32.data(), nullptr);
  CHECK(out32[0] == doctest::Approx(-0.5));          // the padding is the background value -mean/std
  CHECK(out32[31 * 32 + 31] == doctest::Approx(-0.5));
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 28; ++c)
      REQUIRE(out32[static_cast<std::size_t>((r + 2) * 32 + c + 2)] ==
              doctest::Approx(out28[static_cast<std::size_t>(r * 28 + c)]).epsilon(1e-6));

  CHECK(data::Normalisation::modern().offset == doctest::Approx(-0.1307 / 0.3081));
  CHECK_THROWS_WITH_AS(data::Normalisation::modern({0.1, 0.0}),
                       "Normalisation::modern: needs a finite mean and a positive finite stddev, got mean 0.1 and "
                       "stddev 0",
                       ag::Error);
}

TEST_CASE("make_batch returns tensors [B,1,S,S] and [B]") {
  const data::Dataset d = small_dataset(3, 28, 28, Bytes(3 * 784, 255));
  const std::array<std::int64_t, 2> indices{2, 0};
  const data::Batch batch = data::make_batch(d, indices, data::Normalisation::paper());
  CHECK(batch.images.shape() == ag::Shape{2, 1, 32, 32});
  CHECK(batch.images.dtype() == ag::DType::f32);
  CHECK(batch.labels.shape() == ag::Shape{2});
  CHECK(batch.labels.dtype() == ag::DType::i64);
  CHECK(batch.labels.to_vector() == std::vector<double>{2, 0});
  CHECK(batch.images.at({1, 0, 0, 0}) == doctest::Approx(-0.1));
  CHECK(batch.images.at({1, 0, 2, 2}) == doctest::Approx(1.175));
  const data::Batch batch64 = data::make_batch(d, indices, data::Normalisation::paper(), ag::DType::f64);
  CHECK(batch64.images.dtype() == ag::DType::f64);
  CHECK(batch64.images.at({0, 0, 15, 15}) == doctest::Approx(1.175));
  CHECK_THROWS_WITH_AS(data::make_batch(d, indices, data::Normalisation::paper(), ag::DType::i64),
                       "make_batch: images must be float32 or float64, got int64", ag::Error);
}

TEST_CASE("fill_batch errors: an index out of range, a canvas that cannot centre the image") {
  const data::Dataset d = small_dataset(2, 28, 28, Bytes(2 * 784));
  std::vector<float> out(2 * 32 * 32);
  CHECK_THROWS_WITH_AS(
      data::fill_batch(d, std::array<std::int64_t, 2>{1, 2}, data::Normalisation::paper(), out.data(), nullptr),
      "fill_batch: index 2 at batch position 1 is outside 0..1", ag::Error);
  CHECK_THROWS_WITH_AS(
      data::fill_batch(d, std::array<std::int64_t, 1>{-1}, data::Normalisation::paper(), out.data(), nullptr),
      "fill_batch: index -1 at batch position 0 is outside 0..1", ag::Error);
  CHECK_THROWS_WITH_AS(data::fill_batch(d, std::array<std::int64_t, 1>{0}, data::Normalisation{0.0, 1.0, 31},
                                        out.data(), nullptr),
                       "fill_batch: cannot centre 28 x 28 images on a 31 x 31 canvas (each margin must be even and "
                       ">= 0)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(data::fill_batch(d, std::array<std::int64_t, 1>{0}, data::Normalisation{0.0, 1.0, 26},
                                        out.data(), nullptr),
                       "fill_batch: cannot centre 28 x 28 images on a 26 x 26 canvas (each margin must be even and "
                       ">= 0)",
                       ag::Error);
}

TEST_CASE("pixel_stats gives the mean and standard deviation of pixel/255") {
  const data::Dataset d = small_dataset(1, 2, 2, Bytes{0, 0, 255, 255});
  const data::PixelStats s = data::pixel_stats(d);
  CHECK(s.mean == doctest::Approx(0.5));
  CHECK(s.stddev == doctest::Approx(0.5));
}

TEST_CASE("shuffled_indices is a seeded permutation") {
  ag::Generator a(42), b(42), c(43);
  const std::vector<std::int64_t> pa = data::shuffled_indices(1000, a);
  CHECK(pa == data::shuffled_indices(1000, b));
  CHECK(pa != data::shuffled_indices(1000, c));
  std::vector<std::int64_t> sorted = pa;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 1000; ++i) REQUIRE(sorted[static_cast<std::size_t>(i)] == i);
  CHECK(pa != sorted);
  CHECK(pa != data::shuffled_indices(1000, a));  // the generator moves on: the next epoch differs
  CHECK(data::shuffled_indices(0, a).empty());
  CHECK(data::shuffled_indices(1, a) == std::vector<std::int64_t>{0});
  CHECK_THROWS_WITH_AS(data::shuffled_indices(-1, a), "shuffled_indices: n must be >= 0, got -1", ag::Error);

  // Uniformity, roughly: over 10,000 shuffles of 5, element 0 lands in each position about 2,000 times.
  ag::Generator gen(7);
  std::array<int, 5> where{};
  for (int t = 0; t < 10000; ++t) {
    const std::vector<std::int64_t> p = data::shuffled_indices(5, gen);
    ++where[static_cast<std::size_t>(std::find(p.begin(), p.end(), 0) - p.begin())];
  }
  for (const int n : where) CHECK(std::abs(n - 2000) < 200);
}

namespace {
// Returns the directory named by the environment variable `var` when it holds the four files, else "" after
// printing why the test is skipped.
std::string real_data_dir(const char* var, const std::string& suffix) {
  const char* dir = std::getenv(var);
  if (!dir || !*dir) {
    MESSAGE("skipped: set " << std::string(var) << " to a directory holding the real data to run this test");
    return "";
  }
  for (const char* name :
       {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    const std::filesystem::path path = std::filesystem::path(dir) / (name + suffix);
    if (!std::filesystem::exists(path)) {
      MESSAGE("skipped: " << std::string(var) << "=" << std::string(dir) << " but " << path.string() << " is missing");
      return "";
    }
  }
  return dir;
}

std::array<std::int64_t, 10> label_counts(const data::Dataset& d) {
  std::array<std::int64_t, 10> counts{};
  for (const std::uint8_t label : d.labels) ++counts[label];
  return counts;
}
}  // namespace

TEST_CASE("real MNIST (when LENETGRAD_MNIST_DIR is set): sizes, label counts, pixel statistics") {
  const std::string dir = real_data_dir("LENETGRAD_MNIST_DIR", "");
  if (dir.empty()) return;
  const data::Dataset train = data::load_mnist_split(dir, "train");
  const data::Dataset test = data::load_mnist_split(dir, "test");
  CHECK(train.count == 60000);
  CHECK(test.count == 10000);
  const std::array<std::int64_t, 10> published{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
  CHECK(label_counts(train) == published);
  const data::PixelStats stats = data::pixel_stats(train);
  CHECK(stats.mean == doctest::Approx(data::kMnistStats.mean).epsilon(1e-3));
  CHECK(stats.stddev == doctest::Approx(data::kMnistStats.stddev).epsilon(1e-3));
}

TEST_CASE("real Fashion-MNIST, gzip (when LENETGRAD_FASHION_MNIST_DIR is set): sizes, label counts") {
  const std::string dir = real_data_dir("LENETGRAD_FASHION_MNIST_DIR", ".gz");
  if (dir.empty()) return;
  const data::Dataset train = data::load_mnist_split(dir, "train");
  const data::Dataset test = data::load_mnist_split(dir, "test");
  CHECK(train.count == 60000);
  CHECK(test.count == 10000);
  for (const std::int64_t n : label_counts(train)) CHECK(n == 6000);
  for (const std::int64_t n : label_counts(test)) CHECK(n == 1000);
  const data::PixelStats stats = data::pixel_stats(train);
  CHECK(stats.mean == doctest::Approx(data::kFashionMnistStats.mean).epsilon(1e-3));
  CHECK(stats.stddev == doctest::Approx(data::kFashionMnistStats.stddev).epsilon(1e-3));
}
