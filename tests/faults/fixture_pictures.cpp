// fault_fixture's pictures and run folders for predict_lenet and the report: a good digit, and files each wrong in
// one way (not regular files, too large, headers that claim more pixels than the file holds); run folders whose
// metrics or summary are not regular files.
#include <zlib.h>

#include <cstdint>
#include <string>

#include "fixture_support.h"

namespace fixture {
namespace {

// A PNG chunk: length, type, data, CRC-32 of type and data (big-endian numbers).
Bytes png_chunk(const std::string& type, const Bytes& data) {
  Bytes out;
  const auto be32 = [&out](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift & 0xff));
  };
  const Bytes body = type + data;
  be32(static_cast<std::uint32_t>(data.size()));
  out += body;
  be32(static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  return out;
}

// A PNG file whose header claims width x height RGBA pixels of 8 bits, and whose data are a few compressed bytes.
Bytes png_claiming(std::uint32_t width, std::uint32_t height) {
  Bytes ihdr;
  for (const std::uint32_t v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) ihdr.push_back(static_cast<char>(v >> shift & 0xff));
  ihdr += Bytes{8, 6, 0, 0, 0};  // bit depth, colour type RGBA, compression, filter, interlace
  const Bytes raw(16, '\0');
  Bytes idat(compressBound(static_cast<uLong>(raw.size())), '\0');
  uLongf size = static_cast<uLongf>(idat.size());
  compress(reinterpret_cast<Bytef*>(idat.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
           static_cast<uLong>(raw.size()));
  idat.resize(size);
  return Bytes("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) + png_chunk("IEND", "");
}

}  // namespace

void make_bad_images(const fs::path& root) {
  fs::create_directories(root);
  // A 28x28 PGM of a "1": a dark bar on white paper.
  Bytes good = "P5 28 28 255\n";
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) good.push_back(x >= 12 && x < 16 && y >= 4 && y < 24 ? '\0' : '\xff');
  write_all(root / "good.pgm", good);
  write_all(root / "empty.png", "");
  write_all(root / "notes.png", "these are not pixels\n");
  write_all(root / "fifo.png", "<fifo>");
  write_all(root / "dev_zero.png", "<link:/dev/zero>");
  write_all(root / "loop.png", "<link:loop.png>");
  write_all(root / "dangling.png", "<link:/nonexistent/seven.png>");
  write_all(root / "huge.png", "<sparse:67108865>");  // a byte more than an image file may hold
  // 16384 x 2560 pixels, the most a picture may have, claimed by files of a few bytes.
  write_all(root / "tall.ppm", "P6 16384 2560 255\n\x01\x02");
  write_all(root / "tall_text.ppm", "P3 16384 2560 255\n1 2 3\n");
  write_all(root / "tall.png", png_claiming(16384, 2560));
}

void make_bad_run_files(const fs::path& run, const fs::path& root) {
  const std::vector<std::pair<std::string, std::pair<std::string, Bytes>>> cases = {
      {"metrics_fifo", {"metrics.jsonl", "<fifo>"}},
      {"metrics_dev_zero", {"metrics.jsonl", "<link:/dev/zero>"}},
      {"summary_fifo", {"summary.json", "<fifo>"}},
  };
  for (const auto& [name, replaced] : cases) {
    const fs::path dir = root / name;
    fs::remove_all(dir);
    for (const char* file : {"config.json", "checkpoint.bin", "metrics.jsonl", "summary.json"})
      write_all(dir / file, file == replaced.first ? replaced.second : read_all(run / file));
  }
  // An output folder for a new run, holding nothing but a FIFO where its report.html goes.
  fs::remove_all(root / "report_fifo");
  write_all(root / "report_fifo" / "report.html", "<fifo>");
}

}  // namespace fixture
