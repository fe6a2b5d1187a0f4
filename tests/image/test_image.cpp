// Image files: PNG through libpng (grey, colour, alpha, 16-bit), PGM and PPM, and every malformed file refused
// with a message naming it.
#include <doctest/doctest.h>

#include <apps/image/image_file.h>
#include <apps/image/netpbm.h>
#include <apps/image/png_codec.h>
#include <png.h>
#include <zlib.h>

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "support/idx_writer.h"
#include "support/temp_dir.h"

using ag::image::Image;
using ag::image::ImageError;

namespace {

Image ramp_image(std::int64_t w, std::int64_t h, int channels) {
  Image image = ag::image::make_image(w, h, channels);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<std::uint8_t>(i * 7 % 256);
  return image;
}

test::Bytes text_bytes(const std::string& text) { return test::Bytes(text.begin(), text.end()); }

/// Returns the message of the ImageError that reading `path` throws ("" when it reads).
std::string read_error(const std::filesystem::path& path) {
  try {
    ag::image::read_image_file(path);
  } catch (const ImageError& e) {
    return e.what();
  }
  return "";
}

/// A PNG file of w x h grey pixels whose IHDR claims the sizes given, with a correct CRC.
test::Bytes png_claiming(std::uint32_t width, std::uint32_t height) {
  test::Bytes png = ag::image::encode_png(ramp_image(2, 2, 1));
  for (int k = 0; k < 4; ++k) {  // IHDR's data starts at byte 16: width, then height, big-endian
    png[static_cast<std::size_t>(16 + k)] = static_cast<std::uint8_t>(width >> (24 - 8 * k));
    png[static_cast<std::size_t>(20 + k)] = static_cast<std::uint8_t>(height >> (24 - 8 * k));
  }
  const uLong crc = crc32(0, png.data() + 12, 17);  // over "IHDR" and its 13 data bytes
  for (int k = 0; k < 4; ++k) png[static_cast<std::size_t>(29 + k)] = static_cast<std::uint8_t>(crc >> (24 - 8 * k));
  return png;
}

}  // namespace

TEST_CASE("PNG files decode to RGBA with the pixels that were encoded, from grey, grey+alpha, RGB and RGBA") {
  for (const int channels : {1, 2, 3, 4}) {
    CAPTURE(channels);
    const Image original = ramp_image(13, 7, channels);
    const Image decoded = ag::image::decode_png(ag::image::encode_png(original), "ramp.png");
    REQUIRE(decoded.width == 13);
    REQUIRE(decoded.height == 7);
    REQUIRE(decoded.channels == 4);
    for (std::int64_t y = 0; y < 7; ++y)
      for (std::int64_t x = 0; x < 13; ++x) {
        const bool colour = channels >= 3, alpha = channels == 2 || channels == 4;
        CHECK(decoded.at(x, y, 0) == original.at(x, y, 0));
        CHECK(decoded.at(x, y, 2) == original.at(x, y, colour ? 2 : 0));
        CHECK(decoded.at(x, y, 3) == (alpha ? original.at(x, y, channels - 1) : 255));
      }
  }
}

TEST_CASE("a 16-bit PNG decodes to 8 bits: black stays 0 and white 255") {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = 2;
  png.height = 1;
  png.format = PNG_FORMAT_LINEAR_Y;
  const std::uint16_t pixels[2] = {0, 65535};
  png_alloc_size_t size = 0;
  REQUIRE(png_image_write_to_memory(&png, nullptr, &size, 0, pixels, 0, nullptr));
  test::Bytes bytes(size);
  REQUIRE(png_image_write_to_memory(&png, bytes.data(), &size, 0, pixels, 0, nullptr));
  const Image decoded = ag::image::decode_png(bytes, "deep.png");
  CHECK(decoded.at(0, 0) == 0);
  CHECK(decoded.at(1, 0) == 255);
}

TEST_CASE("PGM and PPM files decode in text and binary form, comments and maxvals up to 65535 included") {
  const Image p2 = ag::image::decode_netpbm(text_bytes("P2\n# a comment\n3 2\n# another\n10\n0 5 10\n10 5 0\n"), "a.pgm");
  CHECK(p2.width == 3);
  CHECK(p2.height == 2);
  CHECK(p2.channels == 1);
  CHECK(p2.pixels == std::vector<std::uint8_t>{0, 128, 255, 255, 128, 0});
  test::Bytes p5 = text_bytes("P5 2 1 255\n");
  p5.insert(p5.end(), {7, 200});
  CHECK(ag::image::decode_netpbm(p5, "b.pgm").pixels == std::vector<std::uint8_t>{7, 200});
  test::Bytes deep = text_bytes("P5\n1 1\n65535\n");
  deep.insert(deep.end(), {0xff, 0xff});
  CHECK(ag::image::decode_netpbm(deep, "c.pgm").pixels == std::vector<std::uint8_t>{255});
  test::Bytes p6 = text_bytes("P6\n1 1\n255\n");
  p6.insert(p6.end(), {1, 2, 3});
  const Image colour = ag::image::decode_netpbm(p6, "d.ppm");
  CHECK(colour.channels == 3);
  CHECK(colour.pixels == std::vector<std::uint8_t>{1, 2, 3});
}

TEST_CASE("read_image_file tells PNG from PGM by content and writes PNG files that read back") {
  test::TempDir dir;
  const Image original = ramp_image(5, 4, 3);
  ag::image::write_png_file(dir / "x.pgm", original);  // the name's extension does not matter
  const Image back = ag::image::read_image_file(dir / "x.pgm");
  CHECK(back.at(4, 3, 1) == original.at(4, 3, 1));
  test::write_file(dir / "y.png", text_bytes("P2 1 1 255 9\n"));
  CHECK(ag::image::read_image_file(dir / "y.png").pixels == std::vector<std::uint8_t>{9});
}

TEST_CASE("every malformed file is refused with a one-line message naming it") {
  test::TempDir dir;
  test::Bytes truncated = ag::image::encode_png(ramp_image(40, 40, 1));
  truncated.resize(truncated.size() / 2);
  test::Bytes short_pgm = text_bytes("P5 4 4 255\n");
  short_pgm.resize(short_pgm.size() + 10);
  const std::vector<std::pair<std::string, test::Bytes>> files = {
      {"empty.png", {}},
      {"notes.png", text_bytes("these are not pixels\n")},
      {"truncated.png", truncated},
      {"huge.png", png_claiming(100000, 100000)},
      {"wide.png", png_claiming(20000, 1)},
      {"huge.pgm", text_bytes("P5 30000 30000 255\n")},
      {"short.pgm", short_pgm},
      {"bad_maxval.pgm", text_bytes("P2 1 1 0\n0\n")},
      {"over_maxval.pgm", text_bytes("P2 1 1 10\n11\n")},
      {"no_height.pgm", text_bytes("P2 1")},
  };
  const std::vector<std::string> expected = {
      "the file is empty",
      "not an image this program reads (expected a PNG, PGM or PPM file)",
      "a damaged PNG file",
      "the image is too large (100000x100000 pixels",
      "the image is too large (20000x1 pixels",
      "the image is too large (30000x30000 pixels",
      "truncated PGM: 4x4 pixels need 16 bytes, the file holds 10",
      "malformed PGM: maximum value 0; expected 1 to 65535",
      "malformed PGM: pixel value 11 exceeds the maximum 10",
      "malformed PGM: expected the height, found the end of the file",
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    CAPTURE(files[i].first);
    test::write_file(dir / files[i].first, files[i].second);
    const std::string message = read_error(dir / files[i].first);
    CHECK(message.starts_with((dir / files[i].first).string() + ": "));
    CHECK(message.find(expected[i]) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK(read_error(dir / "missing.png") ==
        (dir / "missing.png").string() + ": cannot open the image file: No such file or directory");
  CHECK(read_error(dir.path()) ==
        dir.path().string() + ": cannot read the image file: it is a directory, not a regular file");
  {
    std::ofstream big(dir / "big.png", std::ios::binary);  // sparse: refused by its size before it is read
    big.seekp(ag::image::kMaxFileBytes);
    big.put('\0');
  }
  CHECK(read_error(dir / "big.png") ==
        (dir / "big.png").string() +
            ": cannot read the image file: it holds 67108865 bytes, more than the 67108864 that an image file may hold");
}

TEST_CASE("only regular files are read as pictures: a FIFO, a device or a link to one is refused unread") {
  test::TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo.png").c_str(), 0644) == 0);  // opened without waiting for a writer
  CHECK(read_error(dir / "fifo.png") ==
        (dir / "fifo.png").string() + ": cannot read the image file: it is a FIFO (named pipe), not a regular file");
  CHECK(read_error("/dev/zero") == "/dev/zero: cannot read the image file: it is a character device, not a regular file");
  std::filesystem::create_symlink("/dev/urandom", dir / "noise.pgm");
  CHECK(read_error(dir / "noise.pgm") == (dir / "noise.pgm").string() +
                                             ": cannot read the image file: it is a character device (/dev/urandom, "
                                             "through a symbolic link), not a regular file");
  std::filesystem::create_symlink("noise.pgm.loop", dir / "noise.pgm.loop");
  CHECK(read_error(dir / "noise.pgm.loop").ends_with(": cannot open the image file: Too many levels of symbolic links"));
}

TEST_CASE("a header that claims more pixels than the file holds is refused before their memory is taken") {
  test::TempDir dir;
  // 16384 x 2560 pixels (the most an image may have), in a few bytes: a binary and a text PGM, a PPM.
  test::write_file(dir / "tall.pgm", text_bytes("P5 16384 2560 255\n\x01\x02"));
  CHECK(read_error(dir / "tall.pgm").ends_with("truncated PGM: 16384x2560 pixels need 41943040 bytes, the file holds 2"));
  test::write_file(dir / "tall_text.pgm", text_bytes("P2 16384 2560 255\n1 2 3\n"));
  CHECK(read_error(dir / "tall_text.pgm")
            .ends_with("truncated PGM: 16384x2560 pixels need at least 83886079 bytes of text, the file holds 7"));
  // 11 bytes of text may hold the 6 samples of 2x1 RGB pixels: read, and found one short.
  test::write_file(dir / "short_text.ppm", text_bytes("P3 2 1 255\n1 2 3 4 5\n"));
  CHECK(read_error(dir / "short_text.ppm").ends_with("malformed PPM: expected the pixel value, found the end of the file"));
  // A PNG whose header claims 16384 x 2560 grey pixels of 8 bits: 41943040 bytes, which no 69-byte file can hold.
  test::write_file(dir / "tall.png", png_claiming(16384, 2560));
  const std::string tall = read_error(dir / "tall.png");
  CHECK(tall.find("truncated or damaged PNG: the header claims 16384x2560 pixels of 8 bits (41943040 bytes), more "
                  "than a file of ") != std::string::npos);
  CHECK(tall.ends_with("bytes can hold (deflate compresses at most 1032 to 1)"));
}
