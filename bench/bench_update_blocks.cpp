// bench_update_blocks: what an optimizer update costs when backward hands a weight's gradient over in blocks.
// Adam (watching for NaN, as train_lenet runs it) updates one weight of 120 x 400 (LeNet-5's C5) from a gradient
// given to its consumer in B equal blocks, as a backward rule sends them (autograd/gradient_consumer.h), then
// steps. Each update sets the flush of subnormals for its block and restores it (nn/optim/moment_floor.h says
// why); the second column runs the same with the caller already flushing, where that costs almost nothing.
//
//   bench_update_blocks [--blocks 1,20,120,200] [--steps N]
#include <autograd/autograd.h>
#include <autograd/float_env.h>
#include <autograd/gradient_consumer.h>
#include <nn/optim/adam.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::int64_t kOutputs = 120, kTaps = 400, kElements = kOutputs * kTaps;

/// Returns the best of five timings of `steps` steps, in microseconds per step, each step's gradient in `blocks`.
double microseconds_per_step(std::int64_t blocks, int steps, bool caller_flushes) {
  ag::Tensor w = ag::full({kOutputs, kTaps}, 0.5, ag::DType::f32);
  w.requires_grad_();
  ag::nn::Adam adam({ag::nn::Parameter{"w", w}}, ag::nn::AdamOptions{0.001, 0.9, 0.99, 1e-8, 5e-4});
  adam.update_in_backward();
  adam.watch_non_finite();
  const std::vector<float> grad(kElements, 0.01f);
  const auto consumer = w.gradient_consumer();
  std::optional<ag::FlushSubnormals> flushing;
  if (caller_flushes) flushing.emplace();
  double best = 1e300;
  for (int round = 0; round < 5; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) {
      {
        const ag::NoGradGuard no_grad;  // as in backward
        consumer->begin(w);
        for (std::int64_t b = 0; b < blocks; ++b) {
          const std::int64_t first = b * kElements / blocks, last = (b + 1) * kElements / blocks;
          consumer->consume(w, first, last, grad.data() + first);
        }
      }
      adam.step();
    }
    best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
                              steps);
  }
  if (adam.non_finite_written()) std::exit(1);  // cannot happen: the gradient is finite
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> blocks{1, 20, 120, 200};
  int steps = 2000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--blocks" && i + 1 < argc) {
      blocks.clear();
      std::istringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) blocks.push_back(std::stoll(item));
    } else if (arg == "--steps" && i + 1 < argc) {
      steps = std::stoi(argv[++i]);
    } else {
      fmt::print(stderr, "usage: bench_update_blocks [--blocks 1,20,120,200] [--steps N]\n");
      return 2;
    }
  }
  for (const std::int64_t b : blocks)
    if (b < 1 || b > kElements) {
      fmt::print(stderr, "bench_update_blocks: --blocks: each count must be in [1, {}], got {}\n", kElements, b);
      return 2;
    }
  fmt::print("Adam on a [{}, {}] float32 weight, one thread: us per step, best of 5 runs of {} steps\n", kOutputs,
             kTaps, steps);
  fmt::print("{:>7} {:>16} {:>22}\n", "blocks", "caller as usual", "caller already flushing");
  for (const std::int64_t b : blocks)
    fmt::print("{:>7} {:>16.2f} {:>22.2f}\n", b, microseconds_per_step(b, steps, false),
               microseconds_per_step(b, steps, true));
}
