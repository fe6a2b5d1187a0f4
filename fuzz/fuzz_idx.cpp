// libFuzzer target: the IDX reader (raw and gzip) on arbitrary bytes, through ag::data::read_idx_bytes, the
// in-memory twin of read_idx. Build and run with scripts/fuzz.sh; tests/fuzz_regressions replays the seeds
// and every input kept in fuzz/regressions/idx with gcc.
//
// Input: the first byte's low two bits choose the dimensions expected (1 to 4); the rest is the file.
// Beyond crashes and sanitizer reports (libFuzzer's -malloc_limit_mb catches an allocation driven by a
// header's claim), it aborts on any exception other than ag::Error, an error message that does not name the
// file, and a result whose payload size is not the product of its dimensions.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "autograd/error.h"
#include "nn/data/idx.h"

namespace {

[[noreturn]] void bug(const std::string& what) {
  std::fprintf(stderr, "fuzz_idx: %s\n", what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int dims = 1 + (data[0] & 3);
  const std::string name = "fuzz-input-idx";
  try {
    const ag::data::IdxArray array = ag::data::read_idx_bytes(std::span(data + 1, size - 1), name, dims);
    if (array.dims.size() != static_cast<std::size_t>(dims)) bug("the result has the wrong number of dimensions");
    std::uint64_t product = 1;
    for (const std::int64_t d : array.dims) {
      if (d < 0) bug("a negative dimension");
      product *= static_cast<std::uint64_t>(d);
    }
    if (array.data.size() != product) bug("the payload size is not the product of the dimensions");
  } catch (const ag::Error& e) {
    if (std::string(e.what()).find("'" + name + "'") == std::string::npos)
      bug(std::string("an error that does not name the file: ") + e.what());
  } catch (const std::exception& e) {
    bug(std::string("read_idx_bytes threw something other than ag::Error: ") + e.what());
  }
  return 0;
}
