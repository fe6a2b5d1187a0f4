// Post-accumulate-grad hooks: run once per backward pass, after every use of the leaf has sent its gradient,
// with the whole gradient in .grad; not for ag::grad; removable; only on leaves that require a gradient.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

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
    double* v = leaf.data<double>();
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
