// The IDX reader: raw and gzip files, and every error it reports, with the message pinned.
#include <doctest/doctest.h>

#include <autograd/error.h>
#include <nn/data/idx.h>

#include <string>
#include <sys/stat.h>

#include "support/idx_writer.h"
#include "support/temp_dir.h"

using ag::data::read_idx;
using namespace test;

namespace {
// The message read_idx gives for `path`: "read_idx: '<path>': <what>".
std::string msg(const std::filesystem::path& path, const std::string& what) {
  return "read_idx: '" + path.string() + "': " + what;
}
}  // namespace

TEST_CASE("read_idx reads a raw IDX file of images and one of labels") {
  TempDir dir;
  write_file(dir / "images", idx_bytes({3, 2, 4}, ramp(24)));
  write_file(dir / "labels", idx_bytes({3}, {7, 0, 9}));
  const ag::data::IdxArray images = read_idx(dir / "images", 3);
  CHECK(images.dims == std::vector<std::int64_t>{3, 2, 4});
  CHECK(images.data == ramp(24));
  const ag::data::IdxArray labels = read_idx(dir / "labels", 1);
  CHECK(labels.dims == std::vector<std::int64_t>{3});
  CHECK(labels.data == Bytes{7, 0, 9});
}

TEST_CASE("read_idx reads gzip files, told apart by their magic bytes and not by the name") {
  TempDir dir;
  const Bytes file = idx_bytes({5, 28, 28}, ramp(5 * 28 * 28));
  write_file(dir / "images.gz", gzip(file));
  write_file(dir / "images-no-suffix", gzip(file));
  write_file(dir / "raw-with-suffix.gz", file);
  for (const char* name : {"images.gz", "images-no-suffix", "raw-with-suffix.gz"}) {
    CAPTURE(name);
    const ag::data::IdxArray a = read_idx(dir / name, 3);
    CHECK(a.dims == std::vector<std::int64_t>{5, 28, 28});
    CHECK(a.data == ramp(5 * 28 * 28));
  }
}

TEST_CASE("read_idx reads a gzip file of several members, as gunzip does") {
  TempDir dir;
  const Bytes file = idx_bytes({4, 3, 3}, ramp(36));
  Bytes two = gzip(Bytes(file.begin(), file.begin() + 20));
  const Bytes second = gzip(Bytes(file.begin() + 20, file.end()));
  two.insert(two.end(), second.begin(), second.end());
  write_file(dir / "two.gz", two);
  CHECK(read_idx(dir / "two.gz", 3).data == ramp(36));
}

TEST_CASE("read_idx reads a payload larger than its read chunk, raw and gzip") {
  TempDir dir;
  const Bytes payload = ramp(3 * 1000 * 1000);  // about 3 of the reader's 1 MiB chunks
  write_file(dir / "big", idx_bytes({3000, 1000}, payload));
  write_file(dir / "big.gz", gzip(idx_bytes({3000, 1000}, payload)));
  CHECK(read_idx(dir / "big", 2).data == payload);
  CHECK(read_idx(dir / "big.gz", 2).data == payload);
}

TEST_CASE("read_idx reads an empty payload") {
  TempDir dir;
  write_file(dir / "empty", idx_bytes({0, 28, 28}, {}));
  const ag::data::IdxArray a = read_idx(dir / "empty", 3);
  CHECK(a.dims == std::vector<std::int64_t>{0, 28, 28});
  CHECK(a.data.empty());
}

TEST_CASE("read_idx: a missing or unreadable file") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(read_idx(dir / "absent", 3),
                       msg(dir / "absent", "cannot open the IDX file: No such file or directory").c_str(), ag::Error);
  CHECK_THROWS_WITH_AS(read_idx(dir.path(), 3),
                       msg(dir.path(), "cannot read the IDX file: it is a directory, not a regular file").c_str(),
                       ag::Error);
}

TEST_CASE("read_idx: only a regular file is read, refused before a byte is read otherwise") {
  TempDir dir;
  // A FIFO would block the open until a writer came; /dev/zero would be read without end.
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "fifo", 3),
      msg(dir / "fifo", "cannot read the IDX file: it is a FIFO (named pipe), not a regular file").c_str(), ag::Error);
  std::filesystem::create_symlink("/dev/zero", dir / "zeros");
  CHECK_THROWS_WITH_AS(read_idx(dir / "zeros", 3),
                       msg(dir / "zeros", "cannot read the IDX file: it is a character device (/dev/zero, through a "
                                          "symbolic link), not a regular file")
                           .c_str(),
                       ag::Error);
  // A link to nothing is said to be one, not reported as a missing file.
  std::filesystem::create_symlink(dir / "nowhere", dir / "dangling");
  CHECK_THROWS_WITH_AS(read_idx(dir / "dangling", 3),
                       msg(dir / "dangling", "cannot open the IDX file: it is a symbolic link to " +
                                                 (dir / "nowhere").string() + ", which does not exist")
                           .c_str(),
                       ag::Error);
  // A link to a good file is read through.
  write_file(dir / "labels", idx_bytes({3}, {1, 2, 3}));
  std::filesystem::create_symlink(dir / "labels", dir / "link");
  CHECK(read_idx(dir / "link", 1).data == Bytes{1, 2, 3});
}

TEST_CASE("read_idx: the header is checked against what the caller expects before the payload is read") {
  TempDir dir;
  const ag::data::IdxExpectation images{3, {28, 28}, "images"};
  // One image of 65535 x 65535 in a gzip file that holds only 1 MB of it: refused on the header alone.
  write_file(dir / "giant.gz", gzip(idx_bytes({1, 65535, 65535}, Bytes(1 << 20))));
  CHECK_THROWS_WITH_AS(read_idx(dir / "giant.gz", images),
                       msg(dir / "giant.gz", "images are 65535 x 65535, expected 28 x 28").c_str(), ag::Error);
  write_file(dir / "good", idx_bytes({2, 28, 28}, Bytes(2 * 28 * 28, 7)));
  CHECK(read_idx(dir / "good", images).dims == std::vector<std::int64_t>{2, 28, 28});
  CHECK_THROWS_WITH_AS(read_idx(dir / "good", ag::data::IdxExpectation{3, {28}, "images"}),
                       msg(dir / "good", "an item shape of 1 sizes for 3 dimensions").c_str(), ag::Error);
}

TEST_CASE("read_idx: a wrong magic number names the bytes found and expected") {
  TempDir dir;
  write_file(dir / "zip", {0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0});
  CHECK_THROWS_WITH_AS(read_idx(dir / "zip", 3),
                       msg(dir / "zip", "wrong magic number: found bytes 50 4b 03 04, expected 00 00 08 03 "
                                        "(IDX, unsigned bytes, 3 dimensions)")
                           .c_str(),
                       ag::Error);
  CHECK_THROWS_WITH_AS(read_idx(dir / "zip", 1),
                       msg(dir / "zip", "wrong magic number: found bytes 50 4b 03 04, expected 00 00 08 01 "
                                        "(IDX, unsigned bytes, 1 dimension)")
                           .c_str(),
                       ag::Error);
  // The same bytes inside a gzip stream are checked after decompression.
  write_file(dir / "zip.gz", gzip({0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0}));
  CHECK_THROWS_WITH_AS(read_idx(dir / "zip.gz", 3),
                       msg(dir / "zip.gz", "wrong magic number: found bytes 50 4b 03 04, expected 00 00 08 03 "
                                           "(IDX, unsigned bytes, 3 dimensions)")
                           .c_str(),
                       ag::Error);
}

TEST_CASE("read_idx: an unsupported element type") {
  TempDir dir;
  write_file(dir / "floats", idx_bytes({2}, Bytes(8), 0x0D));
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "floats", 1),
      msg(dir / "floats", "unsupported element type 0x0d (float32); only 0x08 (unsigned byte) is supported").c_str(),
      ag::Error);
  write_file(dir / "unknown", idx_bytes({2}, Bytes(2), 0x42));
  CHECK_THROWS_WITH_AS(read_idx(dir / "unknown", 1),
                       msg(dir / "unknown",
                           "unsupported element type 0x42 (not an IDX element type); only 0x08 (unsigned byte) is "
                           "supported")
                           .c_str(),
                       ag::Error);
}

TEST_CASE("read_idx: the wrong number of dimensions for what the caller asked") {
  TempDir dir;
  write_file(dir / "labels", idx_bytes({3}, {1, 2, 3}));
  write_file(dir / "images", idx_bytes({1, 2, 2}, {1, 2, 3, 4}));
  CHECK_THROWS_WITH_AS(read_idx(dir / "labels", 3), msg(dir / "labels", "has 1 dimension, expected 3").c_str(),
                       ag::Error);
  CHECK_THROWS_WITH_AS(read_idx(dir / "images", 1), msg(dir / "images", "has 3 dimensions, expected 1").c_str(),
                       ag::Error);
  CHECK_THROWS_WITH_AS(read_idx(dir / "images", 0),
                       msg(dir / "images", "expected_dims must be in 1..255, got 0").c_str(), ag::Error);
}

TEST_CASE("read_idx: a truncated file says how many bytes were expected and how many are present") {
  TempDir dir;
  write_file(dir / "empty", {});
  CHECK_THROWS_WITH_AS(read_idx(dir / "empty", 3),
                       msg(dir / "empty", "truncated: the file holds 0 bytes, fewer than the 4-byte magic number")
                           .c_str(),
                       ag::Error);
  Bytes header = idx_bytes({3, 2, 4}, {});
  header.resize(10);
  write_file(dir / "header", header);
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "header", 3),
      msg(dir / "header", "truncated: the header needs 16 bytes for 3 dimensions, the file holds 10").c_str(),
      ag::Error);
  write_file(dir / "payload", idx_bytes({3, 2, 4}, ramp(20)));
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "payload", 3),
      msg(dir / "payload", "truncated: the header claims 3 x 2 x 4 = 24 payload bytes, the file holds 20").c_str(),
      ag::Error);
  write_file(dir / "payload.gz", gzip(idx_bytes({3, 2, 4}, ramp(20))));
  CHECK_THROWS_WITH_AS(read_idx(dir / "payload.gz", 3),
                       msg(dir / "payload.gz",
                           "truncated: the header claims 3 x 2 x 4 = 24 payload bytes, the decompressed data holds 20")
                           .c_str(),
                       ag::Error);
  write_file(dir / "header.gz", gzip(header));
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "header.gz", 3),
      msg(dir / "header.gz", "truncated: the header needs 16 bytes for 3 dimensions, the decompressed data holds 10")
          .c_str(),
      ag::Error);
}

TEST_CASE("read_idx: bytes after the payload are rejected") {
  TempDir dir;
  write_file(dir / "long", idx_bytes({2}, {1, 2, 3, 4, 5}));
  CHECK_THROWS_WITH_AS(read_idx(dir / "long", 1),
                       msg(dir / "long", "the file holds 3 bytes after the 2 payload bytes that the header claims")
                           .c_str(),
                       ag::Error);
  write_file(dir / "long.gz", gzip(idx_bytes({2}, {1, 2, 3, 4, 5})));
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "long.gz", 1),
      msg(dir / "long.gz", "the decompressed data holds 3 bytes after the 2 payload bytes that the header claims")
          .c_str(),
      ag::Error);
}

TEST_CASE("read_idx: a corrupt gzip stream") {
  TempDir dir;
  const Bytes good = gzip(idx_bytes({4, 3, 3}, ramp(36)));
  // The gzip trailer is CRC-32 then the uncompressed length, 4 bytes each, little-endian.
  Bytes bad_crc = good;
  bad_crc[bad_crc.size() - 8] ^= 0xFF;
  write_file(dir / "crc.gz", bad_crc);
  CHECK_THROWS_WITH_AS(read_idx(dir / "crc.gz", 3),
                       msg(dir / "crc.gz", "corrupt gzip stream (incorrect data check)").c_str(), ag::Error);
  Bytes bad_length = good;
  bad_length[bad_length.size() - 4] ^= 0x01;
  write_file(dir / "length.gz", bad_length);
  CHECK_THROWS_WITH_AS(read_idx(dir / "length.gz", 3),
                       msg(dir / "length.gz", "corrupt gzip stream (incorrect length check)").c_str(), ag::Error);
  const Bytes cut(good.begin(), good.end() - 6);
  write_file(dir / "cut.gz", cut);
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "cut.gz", 3),
      msg(dir / "cut.gz", "corrupt gzip stream (the compressed data ends before the end of the stream)").c_str(),
      ag::Error);
  Bytes bad_method = good;
  bad_method[2] = 0x07;  // compression method: only 8 (deflate) exists
  write_file(dir / "method.gz", bad_method);
  CHECK_THROWS_WITH_AS(read_idx(dir / "method.gz", 3),
                       msg(dir / "method.gz", "corrupt gzip stream (unknown compression method)").c_str(), ag::Error);
  write_file(dir / "magic-only.gz", {0x1f, 0x8b});
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "magic-only.gz", 3),
      msg(dir / "magic-only.gz", "corrupt gzip stream (the compressed data ends before the end of the stream)")
          .c_str(),
      ag::Error);
}

TEST_CASE("read_idx: a header claiming more items than the file holds fails before any large allocation") {
  TempDir dir;
  // 4e9 items claimed (under the 4 GiB cap) by a file holding 3: a reader that trusted the header would
  // allocate 4 GB here; this one checks the file size (raw) or grows with what it decompresses (gzip).
  const Bytes liar = idx_bytes({4000000000u, 1, 1}, {1, 2, 3});
  write_file(dir / "liar", liar);
  write_file(dir / "liar.gz", gzip(liar));
  CHECK_THROWS_WITH_AS(
      read_idx(dir / "liar", 3),
      msg(dir / "liar", "truncated: the header claims 4000000000 x 1 x 1 = 4000000000 payload bytes, the file holds 3")
          .c_str(),
      ag::Error);
  // A gzip file cannot hold more than 1032 times its size (deflate's largest factor): refused on the header.
  const Bytes liar_gz = gzip(liar);
  CHECK_THROWS_WITH_AS(read_idx(dir / "liar.gz", 3),
                       msg(dir / "liar.gz", "the header claims 4000000000 x 1 x 1 = 4000000000 payload bytes, more "
                                            "than a gzip file of " +
                                                std::to_string(liar_gz.size()) +
                                                " bytes can hold (deflate compresses at most 1032:1)")
                           .c_str(),
                       ag::Error);
  // A claim within that factor but beyond the data fails as truncated once the stream ends.
  write_file(dir / "short.gz", gzip(idx_bytes({20000, 1, 1}, {1, 2, 3})));
  CHECK_THROWS_WITH_AS(read_idx(dir / "short.gz", 3),
                       msg(dir / "short.gz",
                           "truncated: the header claims 20000 x 1 x 1 = 20000 payload bytes, the decompressed data "
                           "holds 3")
                           .c_str(),
                       ag::Error);
  // Beyond the cap, the claim is rejected outright (and the product of the dims cannot overflow).
  const Bytes huge = idx_bytes({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {});
  write_file(dir / "huge.gz", gzip(huge));
  CHECK_THROWS_WITH_AS(read_idx(dir / "huge.gz", 3),
                       msg(dir / "huge.gz",
                           "the header claims 4294967295 x 4294967295 x 4294967295 payload bytes, more than the "
                           "4294967296 this reader accepts")
                           .c_str(),
                       ag::Error);
}
