// fma_peak: the float32 multiply-add peak of this CPU, measured. Each thread runs a loop of independent fused
// multiply-add chains held in registers (no memory traffic), as wide as the build's vectors, enough chains to
// cover the FMA units' latency; the figure is 2 flops per lane per FMA. The GFLOP/s figures of bench_lenet and
// docs/performance.md are stated as shares of it.
//
//   fma_peak [--threads 1,2] [--seconds S] [--json FILE]
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// The widest float vector the build targets: 16 lanes with AVX-512, 8 with AVX, else 4 (the compiler splits
// what the machine lacks).
#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

// Twelve independent chains: two FMA units of 4-cycle latency need 8 in flight; 12 leave room and all fit in
// registers. They are named variables, not an array: GCC keeps an array of vectors in memory across the loop,
// and a load and a store per FMA would measure the cache, not the FMA units.
constexpr int kChains = 12;
constexpr std::int64_t kInner = 1 << 16;  // FMAs per chain between reads of the stop flag

/// Runs the chains until `stop`; returns the FMAs done per lane (each 2 flops) and stores a checksum in `sink`.
std::int64_t fma_loop(const std::atomic<bool>& stop, float* sink) {
  const Vec mul = Vec{} + 0.999999f, add = Vec{} + 1e-6f;
  Vec a0 = Vec{} + 0.001f, a1 = a0 * 2, a2 = a0 * 3, a3 = a0 * 4, a4 = a0 * 5, a5 = a0 * 6;
  Vec a6 = a0 * 7, a7 = a0 * 8, a8 = a0 * 9, a9 = a0 * 10, a10 = a0 * 11, a11 = a0 * 12;
  std::int64_t rounds = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (std::int64_t i = 0; i < kInner; ++i) {
      // One FMA each (contracted: GCC's default -ffp-contract=fast); the empty asm keeps every chain live in
      // its register, so that the loop cannot be folded away.
      a0 = a0 * mul + add, a1 = a1 * mul + add, a2 = a2 * mul + add, a3 = a3 * mul + add;
      a4 = a4 * mul + add, a5 = a5 * mul + add, a6 = a6 * mul + add, a7 = a7 * mul + add;
      a8 = a8 * mul + add, a9 = a9 * mul + add, a10 = a10 * mul + add, a11 = a11 * mul + add;
      asm volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));
      asm volatile("" : "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));
    }
    ++rounds;
  }
  const Vec sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
  float total = 0;
  for (int l = 0; l < kLanes; ++l) total += sum[l];
  *sink = total;
  return rounds * kInner * kChains;
}

/// Returns the GFLOP/s of `threads` threads each running fma_loop for `seconds`.
double measure(int threads, double seconds) {
  std::atomic<bool> stop{false};
  std::vector<std::int64_t> fmas(static_cast<std::size_t>(threads));
  std::vector<float> sinks(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { fmas[static_cast<std::size_t>(t)] = fma_loop(stop, &sinks[static_cast<std::size_t>(t)]); });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::int64_t total = 0;
  for (const std::int64_t f : fmas) total += f;
  return 2.0 * kLanes * static_cast<double>(total) / elapsed / 1e9;
}

std::vector<int> parse_threads(std::string_view text) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const int n = std::atoi(std::string(text.substr(start, comma - start)).c_str());
    if (n < 1 || n > 256) throw std::runtime_error(fmt::format("--threads: expected counts in 1..256, got '{}'", text));
    out.push_back(n);
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<int> threads{1, 2};
    double seconds = 1.0;
    std::string json_path;
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (i + 1 >= argc) throw std::runtime_error(fmt::format("{}: missing its value (usage: fma_peak [--threads "
                                                              "1,2] [--seconds S] [--json FILE])", arg));
      if (arg == "--threads") threads = parse_threads(argv[++i]);
      else if (arg == "--seconds") seconds = std::atof(argv[++i]);
      else if (arg == "--json") json_path = argv[++i];
      else throw std::runtime_error(fmt::format("unknown option {}", arg));
    }
    if (!(seconds > 0 && seconds < 600)) throw std::runtime_error("--seconds: expected a number in (0, 600)");
    nlohmann::json records = nlohmann::json::array();
    fmt::print("float32 FMA peak: {} lanes per vector, {} chains per thread\n", kLanes, kChains);
    for (const int t : threads) {
      const double gflops = measure(t, seconds);
      fmt::print("  {} thread(s): {:.1f} GFLOP/s\n", t, gflops);
      records.push_back({{"threads", t}, {"gflops", gflops}, {"lanes", kLanes}});
    }
    if (!json_path.empty()) std::ofstream(json_path) << nlohmann::json{{"fma_peak", records}}.dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fma_peak: {}\n", e.what());
    return 2;
  }
}
