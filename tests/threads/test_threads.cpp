// The kernels' threads: results with 1, 2 and 3 threads agree (to float tolerance, as the issue asks, and in
// fact bitwise, which is what the design promises: chunk boundaries depend only on the batch size and partial
// sums are added in chunk order), a given thread count repeats bitwise, the pool survives concurrent callers,
// and a training loop's steady state takes no tensor storage from the system allocator.
#include <autograd/autograd.h>
#include <models/connection_table.h>
#include <support/thread_count.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "models/lenet5.h"
#include "nn/loss.h"
#include "nn/optim/adam.h"

namespace {

using ag::DType;
using ag::Shape;
using ag::Tensor;
using Inputs = std::vector<Tensor>;

/// An op's output followed by the gradient of every input that requires one, all as values.
std::vector<std::vector<double>> run_op(const std::function<Tensor(const Inputs&)>& op, const Inputs& inputs,
                                        std::uint64_t seed) {
  Inputs leaves;
  for (const auto& t : inputs) {
    Tensor c = t.clone();
    if (t.requires_grad()) c.requires_grad_();
    leaves.push_back(c);
  }
  const Tensor y = op(leaves);
  ag::Generator gen(seed);
  y.backward(ag::uniform(y.shape(), -1, 1, gen, y.dtype()));
  std::vector<std::vector<double>> out{y.to_vector()};
  for (const auto& l : leaves)
    if (l.requires_grad()) out.push_back(l.grad().to_vector());
  return out;
}

double max_abs_diff(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].size() == b[i].size());
    for (std::size_t j = 0; j < a[i].size(); ++j) worst = std::max(worst, std::abs(a[i][j] - b[i][j]));
  }
  return worst;
}

Tensor leaf(const Shape& shape, ag::Generator& gen, bool grad, double scale = 1.0) {
  Tensor t = ag::uniform(shape, -scale, scale, gen);
  if (grad) t.requires_grad_();
  return t;
}

/// The LeNet-5 ops at their sizes (and a few others), each with inputs for a batch of n.
std::vector<
    std::pair<std::string, std::function<std::pair<std::function<Tensor(const Inputs&)>, Inputs>(std::int64_t)>>>
op_cases() {
  using Case = std::pair<std::function<Tensor(const Inputs&)>, Inputs>;
  std::vector<std::pair<std::string, std::function<Case(std::int64_t)>>> cases;
  cases.emplace_back("conv2d C1 (shifted layout)", [](std::int64_t n) {
    ag::Generator gen(1);
    return Case{[](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2]); },
                {leaf({n, 1, 32, 32}, gen, false), leaf({6, 1, 5, 5}, gen, true, 0.2), leaf({6}, gen, true)}};
  });
  cases.emplace_back("conv2d C3 with Table I", [](std::int64_t n) {
    ag::Generator gen(2);
    ag::Conv2dOptions o;
    o.table = ag::models::lenet5_c3_table();
    return Case{[o](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], o); },
                {leaf({n, 6, 14, 14}, gen, true), leaf({16, 6, 5, 5}, gen, true, 0.2), leaf({16}, gen, true)}};
  });
  cases.emplace_back("conv2d C5 (patch-major layout)", [](std::int64_t n) {
    ag::Generator gen(3);
    return Case{[](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2]); },
                {leaf({n, 16, 5, 5}, gen, true), leaf({120, 16, 5, 5}, gen, true, 0.1), leaf({120}, gen, true)}};
  });
  cases.emplace_back("conv2d stride 2, padding 1 (im2col layout)", [](std::int64_t n) {
    ag::Generator gen(4);
    ag::Conv2dOptions o;
    o.stride = 2;
    o.padding = 1;
    return Case{[o](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], o); },
                {leaf({n, 3, 11, 11}, gen, true), leaf({5, 3, 3, 3}, gen, true, 0.3), leaf({5}, gen, true)}};
  });
  cases.emplace_back("subsample", [](std::int64_t n) {
    ag::Generator gen(5);
    return Case{[](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], 2); },
                {leaf({n, 6, 28, 28}, gen, true), leaf({6}, gen, true), leaf({6}, gen, true)}};
  });
  cases.emplace_back("max_pool2d", [](std::int64_t n) {
    ag::Generator gen(6);
    return Case{[](const Inputs& v) { return ag::max_pool2d(v[0], 2); }, {leaf({n, 16, 10, 10}, gen, true)}};
  });
  cases.emplace_back("rbf", [](std::int64_t n) {
    ag::Generator gen(7);
    return Case{[](const Inputs& v) { return ag::rbf(v[0], v[1]); },
                {leaf({n, 84}, gen, true), leaf({10, 84}, gen, true)}};
  });
  cases.emplace_back("linear", [](std::int64_t n) {
    ag::Generator gen(8);
    return Case{[](const Inputs& v) { return ag::linear(v[0], v[1], v[2]); },
                {leaf({n, 120}, gen, true), leaf({84, 120}, gen, true, 0.2), leaf({84}, gen, true)}};
  });
  cases.emplace_back("scaled_tanh on a large tensor (elementwise blocks)", [](std::int64_t n) {
    ag::Generator gen(9);
    return Case{[](const Inputs& v) { return ag::scaled_tanh(v[0]); }, {leaf({n, 6, 28, 28}, gen, true, 2.0)}};
  });
  return cases;
}

/// One variant's model trained for a few Adam steps from a fixed start, on batches of the given sizes;
/// returns every parameter's values.
std::vector<std::vector<double>> train_a_few_steps(ag::models::Variant variant,
                                                   const std::vector<std::int64_t>& sizes) {
  ag::Generator init(11);
  auto model = ag::models::make_model(variant, init);
  ag::nn::Adam adam(model->parameters(), ag::nn::AdamOptions{1e-3, 0.9, 0.999, 1e-8, 0});
  const auto loss_kind =
      variant == ag::models::Variant::lecun1998 ? ag::nn::LossKind::map : ag::nn::LossKind::cross_entropy;
  const std::int64_t side = ag::models::input_side(variant);
  ag::Generator data(12);
  for (const auto n : sizes) {
    const Tensor x = ag::uniform({n, 1, side, side}, -0.1, 1.175, data);
    std::vector<std::int64_t> labels;
    for (std::int64_t i = 0; i < n; ++i) labels.push_back(static_cast<std::int64_t>(data.below(10)));
    const Tensor loss = ag::nn::compute_loss(loss_kind, model->forward(x), ag::from_indices(labels, {n}), 1.0);
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  std::vector<std::vector<double>> out;
  for (const auto& p : model->parameters()) out.push_back(p.value.to_vector());
  return out;
}

}  // namespace

TEST_CASE("threads: the thread count is clamped to [1, 64] and defaults to 1") {
  CHECK(ag::num_threads() == 1);
  {
    ThreadCount zero(0);
    CHECK(ag::num_threads() == 1);
  }
  {
    ThreadCount many(1000);
    CHECK(ag::num_threads() == 64);
  }
  CHECK(ag::num_threads() == 1);
}

TEST_CASE("threads: with 2 threads a parallel loop runs on 2 threads, every iteration exactly once") {
  ThreadCount t(2);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  std::vector<int> runs(8, 0);
  ag::parallel_for(8, [&](std::int64_t i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // long enough for the worker to wake and claim
    std::lock_guard lock(mutex);
    seen.insert(std::this_thread::get_id());
    ++runs[static_cast<std::size_t>(i)];
  });
  CHECK(seen.size() == 2);
  CHECK(runs == std::vector<int>(8, 1));
}

TEST_CASE("threads: the calling thread runs a front run of a loop's chunks and the workers the rest") {
  // The caller claims chunks from the front and the workers from the back, so that loop after loop over the
  // same chunks keeps most of a chunk's data on one core. Whatever the timing, the caller's chunks are then
  // 0..k-1 for some k, and the workers' chunks k..count-1. (k can be 0: with more threads than cores, the
  // caller can lose its core between publishing the loop and its first claim, and the workers take it all.)
  // Each chunk busy-waits (a sleeping caller would look short of CPU time, and the pool would run serially).
  for (const int threads : {2, 3}) {
    ThreadCount t(threads);
    int rounds_shared = 0;
    for (int round = 0; round < 200 && rounds_shared < 3; ++round) {
      const auto caller = std::this_thread::get_id();
      std::vector<int> by_caller(12, -1);
      ag::parallel_for(12, [&](std::int64_t i) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
        while (std::chrono::steady_clock::now() < until) {
        }
        by_caller[static_cast<std::size_t>(i)] = std::this_thread::get_id() == caller ? 1 : 0;
      });
      CAPTURE(threads);
      CAPTURE(round);
      const auto first_worker = std::find(by_caller.begin(), by_caller.end(), 0);
      CHECK(std::count(first_worker, by_caller.end(), 1) == 0);
      CHECK(std::count(by_caller.begin(), by_caller.end(), -1) == 0);
      if (first_worker != by_caller.end()) ++rounds_shared;
    }
    // The workers took part (so the order above was tested), unless other programs kept the cores busy for
    // the whole test: then the pool runs loops on the caller alone, by design, and this only warns.
    WARN(rounds_shared == 3);
  }
}

TEST_CASE("threads: every kernel gives the same results with 1, 2 and 3 threads, forward and backward") {
  for (const auto& [name, make] : op_cases()) {
    for (const std::int64_t n : {1, 3, 8, 16, 17, 64}) {  // 16: one whole block of samples, cut in two on 2 threads
      CAPTURE(name);
      CAPTURE(n);
      const auto [op, inputs] = make(n);
      std::vector<std::vector<double>> one, two, three;
      {
        ThreadCount t(1);
        one = run_op(op, inputs, 21);
      }
      {
        ThreadCount t(2);
        two = run_op(op, inputs, 21);
      }
      {
        ThreadCount t(3);
        three = run_op(op, inputs, 21);
      }
      CHECK(max_abs_diff(one, two) <= 1e-6);  // float tolerance, as asked ...
      CHECK(one == two);                      // ... and in fact the same bits, by design
      CHECK(one == three);
    }
  }
}

TEST_CASE("threads: training both variants for a few steps agrees between 1 and 2 threads") {
  const std::vector<std::int64_t> sizes{16, 64, 5, 1, 33};
  for (const auto variant : {ag::models::Variant::lecun1998, ag::models::Variant::modern}) {
    CAPTURE(ag::models::variant_name(variant));
    std::vector<std::vector<double>> one, two;
    {
      ThreadCount t(1);
      one = train_a_few_steps(variant, sizes);
    }
    {
      ThreadCount t(2);
      two = train_a_few_steps(variant, sizes);
    }
    CHECK(max_abs_diff(one, two) <= 1e-5);
    CHECK(one == two);
  }
}

TEST_CASE("threads: an Adam step over enough parameters to be split gives the same bits on 1 and 2 threads") {
  // Above 256k elements (nn/optim/optimizer.cpp) the step's blocks go to the pool; LeNet-5's stay serial.
  const auto three_steps = [] {
    ag::Generator gen(5);
    ag::nn::Parameter big{"big", ag::uniform({300'000}, -1, 1, gen, DType::f32).requires_grad_(), 300'000};
    ag::nn::Parameter small{"small", ag::uniform({7}, -1, 1, gen, DType::f32).requires_grad_(), 7};
    ag::nn::Adam adam({big, small}, ag::nn::AdamOptions{1e-2, 0.9, 0.999, 1e-8, 1e-4});
    for (int step = 0; step < 3; ++step) {
      big.value.set_grad(ag::uniform({300'000}, -1, 1, gen, DType::f32));
      small.value.set_grad(ag::uniform({7}, -1, 1, gen, DType::f32));
      adam.step();
    }
    auto values = big.value.to_vector();
    const auto rest = small.value.to_vector();
    values.insert(values.end(), rest.begin(), rest.end());
    return values;
  };
  std::vector<double> one, two;
  {
    ThreadCount t(1);
    one = three_steps();
  }
  {
    ThreadCount t(2);
    two = three_steps();
  }
  CHECK(one == two);
  CHECK(one != std::vector<double>(one.size(), 0.0));
}

TEST_CASE("threads: a given thread count repeats bitwise") {
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    ThreadCount t(threads);
    const auto first = train_a_few_steps(ag::models::Variant::modern, {64, 7});
    const auto second = train_a_few_steps(ag::models::Variant::modern, {64, 7});
    CHECK(first == second);
    const auto a = train_a_few_steps(ag::models::Variant::lecun1998, {32});
    const auto b = train_a_few_steps(ag::models::Variant::lecun1998, {32});
    CHECK(a == b);
  }
}

TEST_CASE("threads: two user threads running ops at once share the pool and get the serial results") {
  const auto cases = op_cases();
  const auto& make = cases[1].second;  // C3 with its table
  const auto [op, inputs] = make(32);
  std::vector<std::vector<double>> serial;
  {
    ThreadCount t(1);
    serial = run_op(op, inputs, 5);
  }
  ThreadCount t(2);
  std::vector<std::vector<double>> results[2];
  {
    std::vector<std::thread> users;
    for (int u = 0; u < 2; ++u)
      users.emplace_back([&, u] {
        for (int r = 0; r < 20; ++r) results[u] = run_op(op, inputs, 5);
      });
    for (auto& user : users) user.join();
  }
  CHECK(results[0] == serial);
  CHECK(results[1] == serial);
}

TEST_CASE("storage: after its first steps, a training loop takes no tensor storage from the system allocator") {
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    ThreadCount t(threads);
    ag::Generator init(3);
    auto model = ag::models::make_model(ag::models::Variant::lecun1998, init);
    ag::nn::Adam adam(model->parameters(), ag::nn::AdamOptions{});
    ag::Generator data(4);
    const Tensor x = ag::uniform({16, 1, 32, 32}, -0.1, 1.175, data);
    const Tensor labels = ag::from_indices({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5}, {16});
    const auto step = [&] {
      const Tensor loss = ag::nn::compute_loss(ag::nn::LossKind::map, model->forward(x), labels, 1.0);
      adam.zero_grad();
      loss.backward();
      adam.step();
    };
    for (int i = 0; i < 3; ++i) step();
    ag::reset_storage_stats();
    for (int i = 0; i < 5; ++i) step();
    const ag::StorageStats stats = ag::storage_stats();
    CHECK(stats.fresh_allocations == 0);
    CHECK(stats.reuses > 0);
  }
}

TEST_CASE("storage: released cache blocks are gone, and a limit of 0 keeps nothing") {
  { const Tensor t = ag::zeros({1000}); }
  CHECK(ag::storage_stats().cached_blocks > 0);
  ag::release_cached_storage();
  CHECK(ag::storage_stats().cached_blocks == 0);
  CHECK(ag::storage_stats().cached_bytes == 0);
  ag::set_storage_cache_limit(0);
  { const Tensor t = ag::zeros({1000}); }
  CHECK(ag::storage_stats().cached_blocks == 0);
  ag::set_storage_cache_limit(std::int64_t{1} << 30);
  ag::reset_storage_stats();
  { const Tensor t = ag::zeros({1000}); }
  { const Tensor t = ag::zeros({1000}); }
  CHECK(ag::storage_stats().fresh_allocations == 1);
  CHECK(ag::storage_stats().reuses == 1);
}

TEST_CASE("threads: two user threads training through one shared parameter lose no gradient") {
  // Each thread runs its own forward and backward passes through graphs that share the leaf w; every pass
  // adds x to w's .grad (dL/dw for L = sum(w x)), so after both threads the sum is exact: small integers.
  constexpr std::int64_t kSize = 20000;
  constexpr int kPasses = 100;
  Tensor w = ag::ones({kSize}, ag::DType::f64).requires_grad_();
  std::vector<double> values(static_cast<std::size_t>(kSize));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % 7);
  const Tensor x = ag::from_vector(values, {kSize}, ag::DType::f64);
  const auto train = [&] {
    for (int pass = 0; pass < kPasses; ++pass) ag::sum(ag::mul(w, x)).backward();
  };
  for (int run = 0; run < 3; ++run) {
    w.zero_grad();
    std::thread a(train), b(train);
    a.join();
    b.join();
    const std::vector<double> grad = w.grad().to_vector();
    std::int64_t wrong = 0;
    for (std::size_t i = 0; i < grad.size(); ++i) wrong += grad[i] != 2.0 * kPasses * values[i];
    CHECK(wrong == 0);
  }
}
