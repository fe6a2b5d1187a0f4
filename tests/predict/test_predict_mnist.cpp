// predict_lenet end to end on real MNIST test digits written as picture files in other forms (larger, smaller,
// inverted, coloured, drawn on a transparent layer, padded off-centre, PGM): each must be classified as the
// trained model classifies the original digit, at a stated rate; malformed files are refused by name while
// the others still run. Uses the short run that the tiny_run CTest fixture trains (tests/report/CMakeLists.txt).
#include <doctest/doctest.h>

#include <apps/image/image_file.h>
#include <apps/inspect/scores.h>
#include <apps/inspect/trained_run.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>

#include "support/idx_writer.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

using ag::image::Image;

namespace {

constexpr std::int64_t kDigits = 300;  // the first test digits

Image mnist_image(const ag::data::Dataset& set, std::int64_t index) {
  Image image = ag::image::make_image(28, 28, 1);
  std::copy_n(set.images.begin() + index * 784, 784, image.pixels.begin());
  return image;
}

/// Bilinear resampling to w x h (pixel centres aligned), as a paint program's "scale image" does.
Image bilinear(const Image& src, std::int64_t w, std::int64_t h) {
  Image out = ag::image::make_image(w, h, 1);
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      const double sx = std::clamp((static_cast<double>(x) + 0.5) * static_cast<double>(src.width) / static_cast<double>(w) - 0.5, 0.0, static_cast<double>(src.width - 1));
      const double sy = std::clamp((static_cast<double>(y) + 0.5) * static_cast<double>(src.height) / static_cast<double>(h) - 0.5, 0.0, static_cast<double>(src.height - 1));
      const auto x0 = static_cast<std::int64_t>(sx), y0 = static_cast<std::int64_t>(sy);
      const std::int64_t x1 = std::min(x0 + 1, src.width - 1), y1 = std::min(y0 + 1, src.height - 1);
      const double fx = sx - static_cast<double>(x0), fy = sy - static_cast<double>(y0);
      const double v = (1 - fy) * ((1 - fx) * src.at(x0, y0) + fx * src.at(x1, y0)) + fy * ((1 - fx) * src.at(x0, y1) + fx * src.at(x1, y1));
      out.pixels[static_cast<std::size_t>(y * w + x)] = static_cast<std::uint8_t>(std::lround(v));
    }
  return out;
}

/// Applies f(ink coverage 0..255) -> channels to every pixel of a grey digit, into an image of `channels`.
Image recolour(const Image& grey, int channels, const std::function<std::array<std::uint8_t, 4>(int)>& f) {
  Image out = ag::image::make_image(grey.width, grey.height, channels);
  for (std::size_t i = 0; i < grey.pixels.size(); ++i) {
    const auto px = f(grey.pixels[i]);
    std::copy_n(px.begin(), channels, out.pixels.begin() + static_cast<std::ptrdiff_t>(i) * channels);
  }
  return out;
}

/// The digit inverted (dark ink) on a w x h white page, its top-left corner at (x, y).
Image padded(const Image& digit, std::int64_t w, std::int64_t h, std::int64_t x, std::int64_t y) {
  Image out = ag::image::make_image(w, h, 1);
  std::fill(out.pixels.begin(), out.pixels.end(), 255);
  for (std::int64_t r = 0; r < digit.height; ++r)
    for (std::int64_t c = 0; c < digit.width; ++c)
      out.pixels[static_cast<std::size_t>((y + r) * w + x + c)] = static_cast<std::uint8_t>(255 - digit.at(c, r));
  return out;
}

test::Bytes pgm_bytes(const Image& grey) {
  const std::string header = "P5\n" + std::to_string(grey.width) + " " + std::to_string(grey.height) + "\n255\n";
  test::Bytes out(header.begin(), header.end());
  out.insert(out.end(), grey.pixels.begin(), grey.pixels.end());
  return out;
}

/// The picture forms a digit is written in, by name; each must be read back as the same digit.
std::vector<std::pair<std::string, std::function<void(const Image&, const std::filesystem::path&)>>> forms() {
  const auto png = [](auto make) {
    return [make](const Image& d, const std::filesystem::path& p) { ag::image::write_png_file(p.string() + ".png", make(d)); };
  };
  return {
      {"as_is", png([](const Image& d) { return d; })},
      {"x3_inverted", png([](const Image& d) {
         return recolour(bilinear(d, 84, 84), 1, [](int a) { return std::array<std::uint8_t, 4>{static_cast<std::uint8_t>(255 - a)}; });
       })},
      {"x1.8_blue_on_cream", png([](const Image& d) {
         return recolour(bilinear(d, 50, 50), 3, [](int a) {
           const auto mix = [a](int paper, int ink) { return static_cast<std::uint8_t>(std::lround(paper + (ink - paper) * a / 255.0)); };
           return std::array<std::uint8_t, 4>{mix(250, 20), mix(240, 40), mix(210, 200)};
         });
       })},
      {"x10_transparent_layer", png([](const Image& d) {
         return recolour(bilinear(d, 280, 280), 4, [](int a) { return std::array<std::uint8_t, 4>{0, 0, 0, static_cast<std::uint8_t>(a)}; });
       })},
      {"x0.8_small", png([](const Image& d) { return bilinear(d, 22, 22); })},
      {"padded_off_centre", [](const Image& d, const std::filesystem::path& p) {
         test::write_file(p.string() + ".pgm", pgm_bytes(padded(bilinear(d, 56, 56), 160, 90, 90, 20)));
       }},
  };
}

}  // namespace

TEST_CASE("predict_lenet classifies MNIST test digits in other picture forms as the model classifies the originals") {
  const std::filesystem::path run_dir = LENETGRAD_TINY_RUN;
  ag::app::TrainedRun run = ag::app::load_trained_run(run_dir);
  const ag::data::Dataset test_set = ag::data::load_mnist_split(run.config.data.dir, "test", kDigits);
  const auto originals = ag::app::score_dataset(*run.setup.model, run.setup.loss, test_set, run.setup.norm);

  test::TempDir dir;
  std::vector<std::string> args = {LENETGRAD_PREDICT_LENET, "--run", run_dir.string(), "--json"};
  for (const auto& [form, write] : forms())
    for (std::int64_t i = 0; i < kDigits; ++i) {
      const auto stem = dir / (form + "_" + std::to_string(i));
      write(mnist_image(test_set, i), stem);
      args.push_back(stem.string() + (form == "padded_off_centre" ? ".pgm" : ".png"));
    }
  // Malformed files among them: each refused by name, the others still classified.
  test::write_file(dir / "empty.png", {});
  test::write_file(dir / "notes.png", test::Bytes{'h', 'i', '\n'});
  test::write_file(dir / "blank.pgm", test::Bytes{'P', '2', ' ', '1', ' ', '1', ' ', '9', ' ', '9'});
  for (const char* bad : {"empty.png", "notes.png", "blank.pgm", "missing.png"}) args.push_back((dir / bad).string());

  const auto result = test::run_command(args);
  CHECK(result.status == 1);
  for (const std::string bad : {"empty.png: the file is empty", "notes.png: not an image this program reads",
                                "blank.pgm: no digit found", "missing.png: cannot open the image file: No such file or directory"})
    CHECK(result.err.find("predict_lenet: " + (dir / bad).string()) != std::string::npos);
  const auto predictions = nlohmann::json::parse(result.out);
  REQUIRE(predictions.size() == args.size() - 4);

  std::map<std::string, int> agree;
  std::size_t k = 0;
  for (const auto& [form, write] : forms())
    for (std::int64_t i = 0; i < kDigits; ++i, ++k) {
      REQUIRE_MESSAGE(predictions[k].contains("predicted"), predictions[k].dump());
      agree[form] += predictions[k]["predicted"].get<int>() == originals[static_cast<std::size_t>(i)].predicted;
    }
  for (const auto& [form, count] : agree) {
    const double rate = static_cast<double>(count) / kDigits;
    MESSAGE(form << ": " << count << " of " << kDigits << " agree with the original (" << 100 * rate << " %)");
    // The digit as MNIST stores it is prepared back to itself; resampled forms lose a little of the original.
    CHECK(rate >= (form == "as_is" ? 0.99 : 0.95));
  }
  for (std::size_t e = k; e < predictions.size(); ++e) CHECK(predictions[e].contains("error"));
}

TEST_CASE("predict_lenet --show prints the network's 32x32 input, and usage errors exit with status 2") {
  test::TempDir dir;
  ag::app::TrainedRun run = ag::app::load_trained_run(LENETGRAD_TINY_RUN);
  const ag::data::Dataset test_set = ag::data::load_mnist_split(run.config.data.dir, "test", 1);
  const int expected = ag::app::score_dataset(*run.setup.model, run.setup.loss, test_set, run.setup.norm)[0].predicted;
  ag::image::write_png_file(dir / "first.png", mnist_image(test_set, 0));
  const auto shown = test::run_command({LENETGRAD_PREDICT_LENET, "--run", LENETGRAD_TINY_RUN, "--show", (dir / "first.png").string()});
  CHECK(shown.status == 0);
  CHECK(shown.out.starts_with((dir / "first.png").string() + ": " + std::to_string(expected) + "  (probability "));
  const auto art = shown.out.substr(shown.out.find("input:\n") + 7);
  CHECK(std::count(art.begin(), art.end(), '\n') == 32);  // lecun1998 pads to 32x32
  CHECK(art.find('@') != std::string::npos);
  CHECK(test::run_command({LENETGRAD_PREDICT_LENET, "--run", LENETGRAD_TINY_RUN}).status == 2);
  CHECK(test::run_command({LENETGRAD_PREDICT_LENET, "--bogus", "x.png"}).status == 2);
  const auto no_run = test::run_command({LENETGRAD_PREDICT_LENET, "--run", (dir / "none").string(), "x.png"});
  CHECK(no_run.status == 2);
  CHECK(no_run.err.find("config.json") != std::string::npos);
}
