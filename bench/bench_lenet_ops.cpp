// Micro-benchmark of the LeNet-5 operators at the paper's sizes, batch 64, float32: the forward op
// (recording into the graph, as in training) and the op's hand-written backward rule alone, in
// microseconds per call and GFLOP/s. Each figure comes from 11 timed runs: the table shows the median and
// the best run (GFLOP/s from the best, the figure least disturbed by other work on the machine).
//
//   bench_lenet_ops [--json FILE] [--seconds S] [--only LAYER] [--clock wall|cpu] [--threads N]
//
// --clock cpu times with the process's CPU time instead of the wall clock: steadier on a machine shared with
// other work (it still counts the work of every thread, so it is not a latency once the ops use threads).
//
// Gradients are requested as in training: C1's input (the image) needs none, the RBF centres are fixed.
// FLOPs count a multiply-add as 2; max-pool counts one comparison per window element after the first.
#include <autograd/autograd.h>
#include <models/connection_table.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using ag::Tensor;
bool use_cpu_clock = false;

/// Returns the current time in seconds: wall clock, or this process's CPU time with --clock cpu.
double now_seconds() {
  if (use_cpu_clock) {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr std::int64_t kBatch = 64;

/// One benchmarked op: how to run its forward, and its FLOPs per call forward and backward.
struct Case {
  std::string layer;  // e.g. "C3"
  std::string op;     // the call, e.g. "conv2d 6->16 5x5, table"
  std::string input;  // input shape
  std::string grads;  // what the backward computes
  std::function<Tensor()> forward;
  double forward_flops = 0;
  double backward_flops = 0;
};

/// Microseconds per call: the median and the best of the timed runs.
struct Micros {
  double median = 0, best = 0;
};

struct Timing {
  Micros forward, backward;
};

/// Times one call of `fn` over 11 runs of enough calls to fill `seconds` / 11 each, after a warm-up.
Micros time_us(const std::function<void()>& fn, double seconds) {
  for (int i = 0; i < 3; ++i) fn();
  const double t0 = now_seconds();
  fn();
  const double once = now_seconds() - t0;
  const int runs = 11;
  const auto reps = static_cast<int>(std::clamp(seconds / runs / std::max(once, 1e-9), 1.0, 1e6));
  std::vector<double> samples;
  for (int r = 0; r < runs; ++r) {
    const double start = now_seconds();
    for (int i = 0; i < reps; ++i) fn();
    samples.push_back((now_seconds() - start) * 1e6 / reps);
  }
  std::sort(samples.begin(), samples.end());
  return {samples[runs / 2], samples.front()};
}

Timing run(const Case& c, double seconds) {
  Timing t;
  t.forward = time_us([&] { (void)c.forward(); }, seconds);
  const Tensor y = c.forward();
  const auto& node = y.grad_fn();
  if (!node) throw std::runtime_error(c.layer + ": the forward recorded no node");
  const Tensor upstream = ag::ones_like(y);
  ag::NoGradGuard no_grad;  // as inside backward(): rules compute without recording
  t.backward = time_us([&] { (void)node->backward(upstream, node->inputs); }, seconds);
  return t;
}

Tensor leaf(const ag::Shape& shape, ag::Generator& gen, bool grad, double scale = 1.0) {
  Tensor t = ag::uniform(shape, -scale, scale, gen, ag::DType::f32);
  if (grad) t.requires_grad_();
  return t;
}

std::vector<Case> lenet_cases(ag::Generator& gen) {
  std::vector<Case> cases;
  const double n = kBatch;
  {  // C1: 1 -> 6 maps, 5x5 on 32x32 -> 28x28
    Tensor x = leaf({kBatch, 1, 32, 32}, gen, false), w = leaf({6, 1, 5, 5}, gen, true, 0.1), b = leaf({6}, gen, true);
    const double macs = n * 6 * 784 * 25;
    cases.push_back({"C1", "conv2d 1->6 5x5", "[64,1,32,32]", "weight, bias", [=] { return ag::conv2d(x, w, b); },
                     2 * macs, 2 * macs + n * 6 * 784});
  }
  {  // S2: 6 maps 28x28 -> 14x14
    Tensor x = leaf({kBatch, 6, 28, 28}, gen, true), c = leaf({6}, gen, true), b = leaf({6}, gen, true);
    const double in = n * 6 * 784, out = n * 6 * 196;
    cases.push_back({"S2", "subsample 2x2 sum", "[64,6,28,28]", "input, coeff, bias",
                     [=] { return ag::subsample(x, c, b, 2); }, in + out, 4 * out});
  }
  {  // C3: 6 -> 16 maps with Table I, 5x5 on 14x14 -> 10x10
    Tensor x = leaf({kBatch, 6, 14, 14}, gen, true), w = leaf({16, 6, 5, 5}, gen, true, 0.1), b = leaf({16}, gen, true);
    ag::Conv2dOptions o;
    o.table = ag::models::lenet5_c3_table();
    const double macs = n * 100 * 60 * 25;
    cases.push_back({"C3", "conv2d 6->16 5x5, table", "[64,6,14,14]", "input, weight, bias",
                     [=] { return ag::conv2d(x, w, b, o); }, 2 * macs, 4 * macs + n * 16 * 100});
  }
  {  // C3 of the modern variant: all 6 maps read by each of the 16, 5x5 on 14x14 -> 10x10
    Tensor x = leaf({kBatch, 6, 14, 14}, gen, true), w = leaf({16, 6, 5, 5}, gen, true, 0.1), b = leaf({16}, gen, true);
    const double macs = n * 100 * 96 * 25;
    cases.push_back({"C3full", "conv2d 6->16 5x5", "[64,6,14,14]", "input, weight, bias",
                     [=] { return ag::conv2d(x, w, b); }, 2 * macs, 4 * macs + n * 16 * 100});
  }
  {  // S4: 16 maps 10x10 -> 5x5
    Tensor x = leaf({kBatch, 16, 10, 10}, gen, true), c = leaf({16}, gen, true), b = leaf({16}, gen, true);
    const double in = n * 16 * 100, out = n * 16 * 25;
    cases.push_back({"S4", "subsample 2x2 sum", "[64,16,10,10]", "input, coeff, bias",
                     [=] { return ag::subsample(x, c, b, 2); }, in + out, 4 * out});
  }
  {  // C5: 16 -> 120 maps, 5x5 on 5x5 -> 1x1
    Tensor x = leaf({kBatch, 16, 5, 5}, gen, true), w = leaf({120, 16, 5, 5}, gen, true, 0.05),
           b = leaf({120}, gen, true);
    const double macs = n * 120 * 400;
    cases.push_back({"C5", "conv2d 16->120 5x5", "[64,16,5,5]", "input, weight, bias",
                     [=] { return ag::conv2d(x, w, b); }, 2 * macs, 4 * macs + n * 120});
  }
  {  // F6: 120 -> 84 fully connected, with lecun1998's activation fused
    Tensor x = leaf({kBatch, 120}, gen, true), w = leaf({84, 120}, gen, true, 0.1), b = leaf({84}, gen, true);
    const double macs = n * 84 * 120;
    cases.push_back({"F6", "linear 120->84, tanh", "[64,120]", "input, weight, bias",
                     [=] { return ag::linear(x, w, b, ag::Activation::scaled_tanh); }, 2 * macs, 4 * macs + n * 84});
  }
  {  // max-pool 2x2 on C1's output (the modern variant's pooling)
    Tensor x = leaf({kBatch, 6, 28, 28}, gen, true);
    const double out = n * 6 * 196;
    cases.push_back(
        {"pool", "max_pool2d 2x2", "[64,6,28,28]", "input", [=] { return ag::max_pool2d(x, 2); }, 3 * out, out});
  }
  {  // max-pool 2x2 on C3's output (rows of 5 windows: narrower than a vector)
    Tensor x = leaf({kBatch, 16, 10, 10}, gen, true);
    const double out = n * 16 * 25;
    cases.push_back(
        {"pool16", "max_pool2d 2x2", "[64,16,10,10]", "input", [=] { return ag::max_pool2d(x, 2); }, 3 * out, out});
  }
  {  // output: 10 Euclidean RBF units on F6's 84 values, fixed centres
    Tensor x = leaf({kBatch, 84}, gen, true), w = leaf({10, 84}, gen, false);
    const double terms = n * 10 * 84;
    cases.push_back({"RBF", "rbf 84->10", "[64,84]", "input", [=] { return ag::rbf(x, w); }, 3 * terms, 3 * terms});
  }
  return cases;
}

double gflops(double flops, double us) { return us > 0 ? flops / us * 1e-3 : 0.0; }

}  // namespace

int main(int argc, char** argv) {
  std::string json_path, only;
  double seconds = 0.5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json" && i + 1 < argc)
      json_path = argv[++i];
    else if (arg == "--seconds" && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (arg == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (arg == "--threads" && i + 1 < argc)
      ag::set_num_threads(std::atoi(argv[++i]));
    else if (arg == "--clock" && i + 1 < argc &&
             (std::string(argv[i + 1]) == "wall" || std::string(argv[i + 1]) == "cpu"))
      use_cpu_clock = std::string(argv[++i]) == "cpu";
    else {
      std::cerr
          << "usage: bench_lenet_ops [--json FILE] [--seconds S] [--only C1|S2|C3|C3full|S4|C5|F6|pool|pool16|RBF] [--clock wall|cpu] "
             "[--threads N]\n";
      return 2;
    }
  }
  ag::Generator gen(2024);
  const auto cases = lenet_cases(gen);
  nlohmann::json results = nlohmann::json::array();
  double lenet_forward = 0, lenet_backward = 0;
  fmt::print(
      "LeNet-5 ops, batch {}, float32, {} thread(s); us per call ({}): median and best of 11 runs, GFLOP/s at the "
      "best;\nbackward = the op's hand-written rule alone\n\n",
      kBatch, ag::num_threads(), use_cpu_clock ? "process CPU time" : "wall clock");
  fmt::print("{:<5} {:<24} {:<14} {:>9} {:>9} {:>7}  {:>9} {:>9} {:>7}  {}\n", "layer", "op", "input", "fwd med",
             "fwd best", "GFLOP/s", "bwd med", "bwd best", "GFLOP/s", "backward computes");
  for (const auto& c : cases) {
    if (!only.empty() && c.layer != only) continue;
    const Timing t = run(c, seconds);
    const double fwd_gflops = gflops(c.forward_flops, t.forward.best),
                 bwd_gflops = gflops(c.backward_flops, t.backward.best);
    fmt::print("{:<5} {:<24} {:<14} {:>9.1f} {:>9.1f} {:>7.2f}  {:>9.1f} {:>9.1f} {:>7.2f}  {}\n", c.layer, c.op,
               c.input, t.forward.median, t.forward.best, fwd_gflops, t.backward.median, t.backward.best, bwd_gflops,
               c.grads);
    if (c.layer != "pool" && c.layer != "pool16" && c.layer != "C3full") {  // the lecun1998 layers only
      lenet_forward += t.forward.best;
      lenet_backward += t.backward.best;
    }
    results.push_back({{"layer", c.layer},
                       {"op", c.op},
                       {"input", c.input},
                       {"backward_computes", c.grads},
                       {"forward_us_median", t.forward.median},
                       {"forward_us_best", t.forward.best},
                       {"forward_gflops", fwd_gflops},
                       {"backward_us_median", t.backward.median},
                       {"backward_us_best", t.backward.best},
                       {"backward_gflops", bwd_gflops},
                       {"forward_flops", c.forward_flops},
                       {"backward_flops", c.backward_flops}});
  }
  fmt::print("\nC1+S2+C3+S4+C5+F6+RBF per batch of {} (best runs): forward {:.1f} us, backward {:.1f} us\n", kBatch,
             lenet_forward, lenet_backward);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    if (!out) {
      std::cerr << "bench_lenet_ops: cannot write " << json_path << "\n";
      return 1;
    }
    out << nlohmann::json{{"benchmark", "lenet_ops"},
                          {"batch", kBatch},
                          {"dtype", "float32"},
                          {"clock", use_cpu_clock ? "process_cpu_time" : "wall"},
                          {"threads", ag::num_threads()},
                          {"results", results},
                          {"lenet_forward_us_best", lenet_forward},
                          {"lenet_backward_us_best", lenet_backward}}
               .dump(2)
        << "\n";
  }
  return 0;
}
