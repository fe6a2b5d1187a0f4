// Post-accumulate-grad hooks: run once per backward pass, after every use of the leaf has sent its gradient,
// with the whole gradient in .grad; not for ag::grad; removable; only on leaves that require a gradient.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <kernels/reference.h>

#include <vector>

using ag::Tensor;

TEST_CASE("hooks: a leaf's hook runs once, after all its uses, and sees the whole gradient") {
  Tensor w = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64).requires_grad_();
  Tensor other = ag::from_vector({4, 5, 6}, {3}, ag::DType::f64).requires_grad_();
  std::vector<std::vector<double>> seen;
  w.register_post_accumulate_grad_hook([&](Tensor& leaf) { seen.push_back(leaf.grad().to_vector()); });
  // y = sum(w^2) + sum(3 w) + sum(w * other): three uses of w, dy/dw = 2 w + 3 + other.
  const Tensor y = ag::sum(ag::square(w)) + ag::sum(ag::mul(w, 3.0)) + ag::sum(w * other);
  y.backward();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == std::vector<double>{9, 12, 15});
  CHECK(other.grad().to_vector() == std::vector<double>{1, 2, 3});
  // A second pass adds to .grad, and the hook sees the total.
  (ag::sum(ag::square(w))).backward();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1] == std::vector<double>{11, 16, 21});
}

TEST_CASE("hooks: a hook may change the leaf and drop its gradient, as an optimizer does") {
  Tensor w = ag::from_vector({1, 2}, {2}, ag::DType::f64).requires_grad_();
  w.register_post_accumulate_grad_hook([](Tensor& leaf) {
    const ag::NoGradGuard no_grad;
    double* v = leaf.mutable_data<double>();
    const double* g = leaf.grad().data<double>();
    for (int i = 0; i < 2; ++i) v[i] -= 0.5 * g[i];
    leaf.zero_grad();
  });
  ag::sum(ag::square(w)).backward();  // dy/dw = 2 w
  CHECK(w.to_vector() == std::vector<double>{0, 0});
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("hooks: the root itself a leaf, ag::grad, a leaf not reached, and remove_hook") {
  Tensor w = ag::from_vector({1, 2}, {2}, ag::DType::f64).requires_grad_();
  Tensor unused = ag::ones({2}, ag::DType::f64).requires_grad_();
  int runs = 0, unused_runs = 0;
  const ag::HookId id = w.register_post_accumulate_grad_hook([&](Tensor&) { ++runs; });
  unused.register_post_accumulate_grad_hook([&](Tensor&) { ++unused_runs; });
  w.backward(ag::ones({2}, ag::DType::f64));  // the root is the leaf
  CHECK(runs == 1);
  const auto grads = ag::grad(ag::sum(ag::square(w)), {w});  // captures, touches no .grad: no hook
  CHECK(grads[0].defined());
  CHECK(runs == 1);
  ag::sum(ag::square(w)).backward();
  CHECK(runs == 2);
  CHECK(unused_runs == 0);
  w.remove_hook(id);
  w.remove_hook(id);  // already gone: nothing happens
  ag::sum(ag::square(w)).backward();
  CHECK(runs == 2);
}

TEST_CASE("hooks: a hook that throws stops backward, and the next pass runs normally") {
  Tensor w = ag::from_vector({1, 2}, {2}, ag::DType::f64).requires_grad_();
  bool fail = true;
  int runs = 0;
  w.register_post_accumulate_grad_hook([&](Tensor&) {
    ++runs;
    if (fail) throw ag::Error("hook: thrown on purpose");
  });
  CHECK_THROWS_WITH_AS(ag::sum(ag::square(w)).backward(), "hook: thrown on purpose", ag::Error);
  fail = false;
  w.zero_grad();
  ag::sum(ag::square(w)).backward();
  CHECK(runs == 2);
  CHECK(w.grad().to_vector() == std::vector<double>{2, 4});
}

TEST_CASE("hooks: only on leaves that require a gradient") {
  Tensor plain = ag::ones({2});
  CHECK_THROWS_WITH_AS(plain.register_post_accumulate_grad_hook([](Tensor&) {}),
                       "Tensor::register_post_accumulate_grad_hook: the tensor does not require a gradient, so none "
                       "is accumulated",
                       ag::Error);
  Tensor w = ag::ones({2}).requires_grad_();
  Tensor y = ag::square(w);
  CHECK_THROWS_WITH_AS(y.register_post_accumulate_grad_hook([](Tensor&) {}),
                       "Tensor::register_post_accumulate_grad_hook: only leaf tensors take one; this one is made by an "
                       "op",
                       ag::Error);
}

namespace {

/// Records what backward hands it: each block's range and values.
struct RecordingConsumer : ag::GradientConsumer {
  std::vector<std::pair<std::int64_t, std::int64_t>> blocks;
  std::vector<double> values;
  int begins = 0;
  void begin(const Tensor&) override { ++begins; }
  void consume(const Tensor& leaf, std::int64_t begin, std::int64_t end, const void* data) override {
    blocks.emplace_back(begin, end);
    values.resize(static_cast<std::size_t>(leaf.numel()));
    for (std::int64_t i = begin; i < end; ++i) values[static_cast<std::size_t>(i)] = static_cast<const double*>(data)[i - begin];
  }
};

/// The gradient of sum((x W^T)^2) with respect to W, for a weight used `uses` times.
Tensor loss_of(const Tensor& x, const Tensor& w, int uses) {
  Tensor y = ag::linear(x, w, Tensor());
  for (int u = 1; u < uses; ++u) y = y + ag::linear(x, w, Tensor());
  return ag::sum(ag::square(y));
}

}  // namespace

TEST_CASE("gradient consumers: a leaf's gradient goes to its consumer instead of .grad, whole or in blocks") {
  ag::Generator gen(4);
  const Tensor x = ag::uniform({3, 5}, -1, 1, gen, ag::DType::f64);
  const Tensor w0 = ag::uniform({20, 5}, -1, 1, gen, ag::DType::f64);
  for (const int uses : {1, 2}) {
    CAPTURE(uses);
    Tensor plain = w0.clone().requires_grad_();
    loss_of(x, plain, uses).backward();
    Tensor w = w0.clone().requires_grad_();
    auto consumer = std::make_shared<RecordingConsumer>();
    w.set_gradient_consumer(consumer);
    int hook_runs = 0;
    w.register_post_accumulate_grad_hook([&](Tensor&) { ++hook_runs; });
    loss_of(x, w, uses).backward();
    CHECK_FALSE(w.grad().defined());
    CHECK(hook_runs == 0);  // the consumer took the gradient: nothing in .grad for the hooks
    CHECK(consumer->values == plain.grad().to_vector());
    CHECK(consumer->begins == 1);
    // Used once, linear's fast rule sends its 20 rows in blocks of rows (the reference kernel, in one block);
    // used twice, the sum arrives whole.
    if (uses == 1 && !ag::kernels::kReferenceKernels) CHECK(consumer->blocks.size() > 1);
    else if (uses == 1) CHECK(consumer->blocks.size() == 1);
    else CHECK(consumer->blocks == std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 100}});
    std::int64_t covered = 0;
    for (const auto& [b, e] : consumer->blocks) covered += e - b;
    CHECK(covered == 100);
  }
}

TEST_CASE("gradient consumers: a .grad already there, anomaly mode and ag::grad") {
  ag::Generator gen(5);
  const Tensor x = ag::uniform({2, 4}, -1, 1, gen, ag::DType::f64);
  Tensor w = ag::uniform({9, 4}, -1, 1, gen, ag::DType::f64).requires_grad_();
  Tensor plain = w.detach().clone().requires_grad_();
  loss_of(x, plain, 1).backward();
  const std::vector<double> g = plain.grad().to_vector();
  auto consumer = std::make_shared<RecordingConsumer>();
  w.set_gradient_consumer(consumer);
  SUBCASE("a .grad to add to: the consumer gets the sum, whole, and .grad is dropped") {
    w.set_grad(ag::full({9, 4}, 0.5, ag::DType::f64));
    loss_of(x, w, 1).backward();
    CHECK_FALSE(w.grad().defined());
    REQUIRE(consumer->blocks.size() == 1);
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(consumer->values[i] == g[i] + 0.5);
  }
  SUBCASE("anomaly mode checks whole gradients: one block") {
    const ag::AnomalyModeGuard anomaly;
    loss_of(x, w, 1).backward();
    CHECK(consumer->blocks.size() == 1);
    CHECK(consumer->values == g);
  }
  SUBCASE("ag::grad returns the gradient and feeds no consumer") {
    const auto grads = ag::grad(loss_of(x, w, 1), {w});
    CHECK(grads[0].to_vector() == g);
    CHECK(consumer->blocks.empty());
  }
  SUBCASE("removed, the gradient goes to .grad again") {
    w.set_gradient_consumer(nullptr);
    loss_of(x, w, 1).backward();
    CHECK(w.grad().to_vector() == g);
    CHECK(consumer->blocks.empty());
  }
}

TEST_CASE("gradient hooks: a hook sees a tensor's gradient of the pass and may replace it") {
  Tensor w = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64).requires_grad_();
  SUBCASE("on an op's output: the rules below get the replacement") {
    Tensor y = ag::mul(w, 2.0);  // dL/dy = 1 from sum; dL/dw = 2 dL/dy
    std::vector<double> seen;
    y.register_hook([&](const Tensor& g) {
      seen = g.to_vector();
      return ag::mul(g, 10.0);
    });
    ag::sum(y).backward();
    CHECK(seen == std::vector<double>{1, 1, 1});
    CHECK(w.grad().to_vector() == std::vector<double>{20, 20, 20});
  }
  SUBCASE("on a leaf used twice: the hook sees the pass's total once, and .grad gets what it returns") {
    int calls = 0;
    std::vector<double> seen;
    w.register_hook([&](const Tensor& g) {
      ++calls;
      seen = g.to_vector();
      return ag::neg(g);
    });
    (ag::sum(ag::square(w)) + ag::sum(w)).backward();  // dL/dw = 2w + 1
    CHECK(calls == 1);
    CHECK(seen == std::vector<double>{3, 5, 7});
    CHECK(w.grad().to_vector() == std::vector<double>{-3, -5, -7});
  }
  SUBCASE("in ag::grad too, and a hook that keeps the gradient returns nothing") {
    int calls = 0;
    w.register_hook([&](const Tensor&) {
      ++calls;
      return Tensor();
    });
    const auto grads = ag::grad(ag::sum(ag::square(w)), {w});
    CHECK(calls == 1);
    CHECK(grads[0].to_vector() == std::vector<double>{2, 4, 6});
    CHECK_FALSE(w.grad().defined());
  }
  SUBCASE("removed, it runs no more; a replacement of the wrong shape is refused") {
    Tensor y = ag::mul(w, 2.0);
    const Tensor total = ag::sum(y);
    const ag::HookId id = y.register_hook([](const Tensor&) { return ag::zeros({2}, ag::DType::f64); });
    CHECK_THROWS_WITH_AS(total.backward(ag::Tensor(), true),
                         "backward: a gradient hook on the output of mul_scalar returned a gradient of shape [2] "
                         "float64 for one of shape [3] float64",
                         ag::Error);
    y.remove_hook(id);
    w.zero_grad();
    total.backward();
    CHECK(w.grad().to_vector() == std::vector<double>{2, 2, 2});
  }
}
