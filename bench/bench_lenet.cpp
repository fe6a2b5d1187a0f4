// End-to-end benchmark of LeNet-5 training and inference, both variants, as the training app runs them:
// a batch converted from the compact uint8 images into a reused float buffer, forward, loss, backward and
// an Adam step. bench/pytorch_lenet.py measures PyTorch the same way, with the same options and the same
// JSON records, and scripts/compare_pytorch.sh runs both and prints the ratios (docs/performance.md).
//
//   bench_lenet [--variant lecun1998|modern|both] [--threads 1,2] [--batches 1,16,64,256]
//               [--inference-batches 256,1000] [--seconds S] [--data DIR] [--json FILE] [--label TEXT]
//               [--clock wall|cpu] [--epoch B] [--profile] [--update-after-backward]
//
// Metrics, per variant and thread count:
//   train samples/s      forward + loss + backward + optimizer step (and the batch conversion), per batch size
//   inference samples/s  forward alone without recording a graph (and the batch conversion)
//   latency              one sample's inference, median microseconds per call
//   peak RSS             the process's peak resident memory (getrusage), with the full training set loaded
// With --epoch B it instead trains one full epoch at batch B (one variant, one thread count) and reports its
// time and peak RSS: the memory of a training run alone, as scripts/compare_pytorch.sh measures it.
// With --profile, after each training rate it also runs S seconds with the engine's profiling on
// (autograd/profile.h) and prints each layer's forward, each op's backward, the batch conversion, the loss
// and the optimizer step in microseconds per step.
// As in train_lenet, the optimizer updates each parameter during backward as soon as its gradient is complete
// (Optimizer::update_in_backward; with --update-after-backward it updates every parameter in its step), and each
// update checks the values it writes for NaN and Inf (Optimizer::watch_non_finite).
// Each rate is the median of 3 timed windows of S/3 seconds after a warm-up. With --data DIR holding MNIST
// the real training set is used; otherwise 60,000 random images of the same size (the speed and memory do
// not depend on the pixel values).
#include <autograd/autograd.h>
#include <autograd/parallel.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/lenet5.h"
#include "nn/data/mnist.h"
#include "nn/loss.h"
#include "nn/optim/adam.h"

namespace {

using ag::Tensor;
bool use_cpu_clock = false;
/// Set by --update-after-backward: every parameter updated by the optimizer step, none during backward.
bool update_after_backward = false;

/// The clock rates are measured with: the wall clock, or with --clock cpu the process's CPU time (steadier on a
/// busy machine, but it counts every thread's work, spinning included, so use it with 1 thread).
struct Clock {
  using time_point = double;
  static double now() {
    if (use_cpu_clock) {
      timespec ts{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
};

double seconds_since(double start) { return Clock::now() - start; }

/// Returns the comma-separated integers of `text`, e.g. "1,16,64".
std::vector<std::int64_t> parse_list(const std::string& text) {
  std::vector<std::int64_t> out;
  if (text.empty() || text == "none") return out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    out.push_back(std::stoll(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}

/// The process's peak resident memory in MB.
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KB on Linux
}

/// The 1-minute load average, to report how busy the machine was.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

/// Multiply-adds per sample of one forward (a bias counts as none), layer by layer.
double forward_macs(ag::models::Variant variant) {
  const double c1 = 6.0 * 28 * 28 * 25, f6 = 84.0 * 120, out = 10.0 * 84, c5 = 120.0 * 16 * 25;
  const double c3 = variant == ag::models::Variant::lecun1998 ? 100.0 * 60 * 25 : 100.0 * 16 * 6 * 25;
  return c1 + c3 + c5 + f6 + out;
}

/// FLOPs per training sample of the products (forward 2 MACs, backward 2 for the weights and 2 for the input,
/// C1's input excepted); the elementwise work is left out, as in the usual count.
double train_flops(ag::models::Variant variant) { return 6 * forward_macs(variant) - 2 * (6.0 * 28 * 28 * 25); }

/// The training set: MNIST from `dir` when it holds it, else random images of MNIST's size.
ag::data::Dataset load_data(const std::string& dir, std::string& source) {
  if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / "train-labels-idx1-ubyte")) {
    source = "mnist:" + dir;
    return ag::data::load_mnist_split(dir, "train");
  }
  source = "random";
  ag::data::Dataset data;
  data.count = 60000;
  data.rows = data.cols = 28;
  data.images.resize(static_cast<std::size_t>(data.count * 28 * 28));
  data.labels.resize(static_cast<std::size_t>(data.count));
  ag::Generator gen(7);
  for (auto& p : data.images) p = static_cast<std::uint8_t>(gen.below(256));
  for (auto& l : data.labels) l = static_cast<std::uint8_t>(gen.below(10));
  return data;
}

/// One variant's model, loss, optimizer and reused batch buffers, stepping through a shuffled order.
struct Runner {
  ag::models::Variant variant;
  const ag::data::Dataset& data;
  ag::data::Normalisation norm;
  ag::nn::LossKind loss;
  std::shared_ptr<ag::nn::Sequential> model;
  std::unique_ptr<ag::nn::Adam> optimizer;
  std::vector<std::int64_t> order;
  std::int64_t next = 0;
  Tensor images, labels;

  Runner(ag::models::Variant v, const ag::data::Dataset& d) : variant(v), data(d) {
    const bool paper = v == ag::models::Variant::lecun1998;
    norm = paper ? ag::data::Normalisation::paper() : ag::data::Normalisation::modern();
    loss = paper ? ag::nn::LossKind::map : ag::nn::LossKind::cross_entropy;
    ag::Generator init(1);
    model = ag::models::make_model(v, init);
    optimizer = std::make_unique<ag::nn::Adam>(model->parameters(), ag::nn::AdamOptions{1e-3, 0.9, 0.999, 1e-8, 0});
    optimizer->update_in_backward(!update_after_backward);  // as train_lenet does, unless told otherwise
    optimizer->watch_non_finite();  // as train_lenet does: each update checks the values it writes
    ag::Generator shuffle(2);
    order = ag::data::shuffled_indices(data.count, shuffle);
  }

  /// Converts the next `batch` samples into the reused buffers (reallocated only when the size changes).
  void load(std::int64_t batch) {
    if (!images.defined() || images.size(0) != batch) {
      images = ag::empty({batch, 1, norm.size, norm.size});
      labels = ag::empty({batch}, ag::DType::i64);
    }
    if (next + batch > data.count) next = 0;
    ag::data::fill_batch(data,
                         std::span(order).subspan(static_cast<std::size_t>(next), static_cast<std::size_t>(batch)),
                         norm, images.mutable_data<float>(), labels.mutable_data<std::int64_t>());
    next += batch;
    // The next batch's images, fetched while this one trains (as train_lenet does).
    if (next + batch <= data.count)
      ag::data::prefetch_images(data, std::span(order).subspan(static_cast<std::size_t>(next), static_cast<std::size_t>(batch)));
  }

  /// One training step on the next batch; returns the loss.
  double train_step(std::int64_t batch) {
    {
      const ag::ProfileScope timed([] { return std::string("batch conversion"); });
      load(batch);
    }
    const Tensor output = model->forward(images);
    const Tensor l = [&] {
      const ag::ProfileScope timed([] { return std::string("forward loss"); });
      return ag::nn::compute_loss(loss, output, labels, 1.0);
    }();
    optimizer->zero_grad();
    l.backward();
    {
      const ag::ProfileScope timed([] { return std::string("optimizer step"); });
      optimizer->step();
    }
    return l.item();
  }

  /// One inference on the next batch; returns the first output value (so the work cannot be dropped).
  double infer(std::int64_t batch) {
    ag::NoGradGuard no_grad;
    load(batch);
    const Tensor output = model->forward(images);
    return output.data<float>()[0];
  }
};

/// Returns the median over 3 windows of `seconds`/3 each of samples per second of `step`, after a warm-up.
double rate(const std::function<double()>& step, std::int64_t batch, double seconds) {
  volatile double sink = 0;
  const auto warm = Clock::now();
  for (int i = 0; i < 3 || seconds_since(warm) < std::min(0.3, seconds / 6); ++i) sink = sink + step();
  std::vector<double> rates;
  for (int w = 0; w < 3; ++w) {
    std::int64_t steps = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      sink = sink + step();
      ++steps;
      elapsed = seconds_since(start);
    } while (elapsed < seconds / 3);
    rates.push_back(static_cast<double>(steps * batch) / elapsed);
  }
  std::sort(rates.begin(), rates.end());
  return rates[1];
}

/// Runs `step` (a training step at batch `batch`) for about `seconds` with the engine's profiling on and
/// prints where a step's time went: each timed name's calls and microseconds per step, and its share.
void print_profile(const std::string& what, const std::function<double()>& step, double seconds) {
  volatile double sink = 0;
  for (int i = 0; i < 3; ++i) sink = sink + step();
  ag::reset_profile();
  ag::set_profiling(true);
  std::int64_t steps = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    sink = sink + step();
    ++steps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  ag::set_profiling(false);
  const double per_step_us = elapsed / static_cast<double>(steps) * 1e6;
  fmt::print("profile of {}: {} steps, {:.1f} us a step (wall clock, timing included)\n", what, steps, per_step_us);
  fmt::print("  {:<44} {:>8} {:>10} {:>6}\n", "timed", "calls", "us/step", "share");
  double timed_us = 0;
  for (const auto& e : ag::profile_entries()) {
    const double us = e.seconds / static_cast<double>(steps) * 1e6;
    timed_us += us;
    fmt::print("  {:<44} {:>8.2f} {:>10.1f} {:>5.1f}%\n", e.name, static_cast<double>(e.calls) / static_cast<double>(steps),
               us, 100 * us / per_step_us);
  }
  fmt::print("  {:<44} {:>8} {:>10.1f} {:>5.1f}%\n", "(the rest: untimed work, the graph's bookkeeping)", "",
             per_step_us - timed_us, 100 * (per_step_us - timed_us) / per_step_us);
  std::fflush(stdout);
}

/// Returns the median microseconds of one call of `step` over calls filling about `seconds`.
double latency_us(const std::function<double()>& step, double seconds) {
  volatile double sink = 0;
  for (int i = 0; i < 20; ++i) sink = sink + step();
  std::vector<double> samples;
  const auto start = Clock::now();
  while (samples.size() < 50 || (seconds_since(start) < seconds && samples.size() < 200000)) {
    const auto t0 = Clock::now();
    sink = sink + step();
    samples.push_back(seconds_since(t0) * 1e6);
  }
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string variant_arg = "both", json_path, data_dir = "data/mnist", label;
  std::vector<std::int64_t> threads{1, 2}, batches{1, 16, 64, 256}, inference_batches{256, 1000};
  double seconds = 1.5;
  std::int64_t epoch_batch = 0;
  bool profile = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      const bool has_value = i + 1 < argc;
      if (arg == "--variant" && has_value)
        variant_arg = argv[++i];
      else if (arg == "--threads" && has_value)
        threads = parse_list(argv[++i]);
      else if (arg == "--batches" && has_value)
        batches = parse_list(argv[++i]);
      else if (arg == "--inference-batches" && has_value)
        inference_batches = parse_list(argv[++i]);
      else if (arg == "--seconds" && has_value)
        seconds = std::stod(argv[++i]);
      else if (arg == "--data" && has_value)
        data_dir = argv[++i];
      else if (arg == "--json" && has_value)
        json_path = argv[++i];
      else if (arg == "--label" && has_value)
        label = argv[++i];
      else if (arg == "--epoch" && has_value)
        epoch_batch = std::stoll(argv[++i]);
      else if (arg == "--profile")
        profile = true;
      else if (arg == "--update-after-backward")
        update_after_backward = true;
      else if (arg == "--clock" && has_value &&
               (std::string(argv[i + 1]) == "cpu" || std::string(argv[i + 1]) == "wall"))
        use_cpu_clock = std::string(argv[++i]) == "cpu";
      else
        throw std::invalid_argument(arg);
    }
    if (variant_arg != "both") (void)ag::models::parse_variant(variant_arg);
  } catch (const std::exception&) {
    std::cerr << "usage: bench_lenet [--variant lecun1998|modern|both] [--threads 1,2] [--batches 1,16,64,256]\n"
                 "                   [--inference-batches 256,1000] [--seconds S] [--data DIR] [--json FILE]\n"
                 "                   [--label TEXT] [--clock wall|cpu] [--epoch B] [--profile]\n"
                 "                   [--update-after-backward]\n";
    return 2;
  }
  std::vector<ag::models::Variant> variants;
  if (variant_arg == "both" || variant_arg == "lecun1998") variants.push_back(ag::models::Variant::lecun1998);
  if (variant_arg == "both" || variant_arg == "modern") variants.push_back(ag::models::Variant::modern);

  std::string source;
  const ag::data::Dataset data = load_data(data_dir, source);
  nlohmann::json records = nlohmann::json::array();
  const double load_before = load_average();
  fmt::print("lenetgrad LeNet-5 benchmark: {} training images ({}), float32, Adam; load average {:.2f}\n", data.count,
             source, load_before);
  fmt::print("{:<10} {:>3}  {:<22} {:>12} {:>9}\n", "variant", "thr", "metric", "value", "GFLOP/s");
  const auto emit = [&](ag::models::Variant v, std::int64_t t, const std::string& metric, std::int64_t batch,
                        double value, const std::string& unit, double gflops) {
    const std::string name = batch > 0 ? fmt::format("{} b{}", metric, batch) : metric;
    fmt::print("{:<10} {:>3}  {:<22} {:>12.1f} {:>9}\n", ag::models::variant_name(v), t, name + " " + unit, value,
               gflops > 0 ? fmt::format("{:.1f}", gflops) : "");
    std::fflush(stdout);
    nlohmann::json r = {{"engine", "lenetgrad"}, {"variant", ag::models::variant_name(v)},
                        {"threads", t},          {"metric", metric},
                        {"batch", batch},        {"value", value},
                        {"unit", unit}};
    if (gflops > 0) r["gflops"] = gflops;
    records.push_back(r);
  };
  if (epoch_batch > 0) {
    // One epoch of training at one batch size: its time, and the peak memory of a training run.
    ag::set_num_threads(static_cast<int>(threads.empty() ? 1 : threads.front()));
    Runner runner(variants.front(), data);
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t done = 0; done < data.count; done += epoch_batch)
      runner.train_step(std::min(epoch_batch, data.count - done));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    emit(variants.front(), ag::num_threads(), "epoch", epoch_batch, elapsed, "s", 0);
    emit(variants.front(), ag::num_threads(), "epoch_peak_rss", epoch_batch, peak_rss_mb(), "MB", 0);
    variants.clear();
  }
  for (const auto variant : variants) {
    Runner runner(variant, data);
    for (const auto t : threads) {
      ag::set_num_threads(static_cast<int>(t));
      for (const auto b : batches) {
        const double r = rate([&] { return runner.train_step(b); }, b, seconds);
        emit(variant, t, "train", b, r, "samples/s", r * train_flops(variant) * 1e-9);
        if (profile)
          print_profile(fmt::format("{} training, {} thread(s), batch {}", ag::models::variant_name(variant), t, b),
                        [&] { return runner.train_step(b); }, seconds);
      }
      for (const auto b : inference_batches) {
        const double r = rate([&] { return runner.infer(b); }, b, seconds);
        emit(variant, t, "inference", b, r, "samples/s", r * 2 * forward_macs(variant) * 1e-9);
      }
      if (!inference_batches.empty())
        emit(variant, t, "latency", 1, latency_us([&] { return runner.infer(1); }, seconds / 2), "us", 0);
    }
  }
  const double rss = peak_rss_mb();
  fmt::print("peak resident memory {:.1f} MB; load average {:.2f} at the start, {:.2f} at the end\n", rss, load_before,
             load_average());
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    if (!out) {
      std::cerr << "bench_lenet: cannot write " << json_path << "\n";
      return 1;
    }
    out << nlohmann::json{{"engine", "lenetgrad"},
                          {"label", label},
                          {"data", source},
                          {"training_images", data.count},
                          {"seconds_per_rate", seconds},
                          {"clock", use_cpu_clock ? "process_cpu_time" : "wall"},
                          {"peak_rss_mb", rss},
                          {"load_average_start", load_before},
                          {"load_average_end", load_average()},
                          {"records", records}}
               .dump(2)
        << "\n";
  }
  return 0;
}
