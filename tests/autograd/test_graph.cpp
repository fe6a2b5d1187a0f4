// Graph behaviour: accumulation, diamonds, deep chains, retained and released graphs, no-grad and enable-grad
// scopes (nested, and per thread), zero_grad.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <cstdint>
#include <future>
#include <limits>
#include <thread>

using ag::Tensor;
using V = std::vector<double>;

namespace {

Tensor leaf(const V& values, const ag::Shape& shape) {
  Tensor t = ag::from_vector(values, shape, ag::DType::f64);
  t.requires_grad_();
  return t;
}

}  // namespace

TEST_CASE("an op records itself only when an input requires a gradient") {
  Tensor a = ag::ones({2});
  Tensor b = ag::ones({2});
  Tensor c = a + b;
  CHECK_FALSE(c.requires_grad());
  CHECK(c.grad_fn() == nullptr);
  b.requires_grad_();
  Tensor d = a * b;
  CHECK(d.requires_grad());
  REQUIRE(d.grad_fn() != nullptr);
  CHECK(d.grad_fn()->name == "mul");
  CHECK(d.grad_fn()->inputs.size() == 2);
}

TEST_CASE("a shared subexpression receives the sum of its gradients") {
  // y = x*x + 3x: dy/dx = 2x + 3
  Tensor x = leaf({2, -1}, {2});
  Tensor y = ag::sum(x * x + x * 3.0);
  y.backward();
  CHECK(x.grad().to_vector() == V{7, 1});
}

TEST_CASE("a diamond graph: one value feeds two branches that meet again") {
  // a = 2x; b = a^2; c = 3a; y = b + c  ->  dy/dx = (2a + 3) * 2
  Tensor x = leaf({1.5}, {1});
  Tensor a = x * 2.0;
  Tensor y = ag::sum(ag::square(a) + a * 3.0);
  y.backward();
  CHECK(x.grad().item() == (2 * 3.0 + 3) * 2);
}

TEST_CASE("a weight used twice (shared weights) accumulates both uses") {
  Tensor w = leaf({0.5, -2}, {2});
  Tensor u = ag::from_vector({1, 2}, {2}, ag::DType::f64), v = ag::from_vector({3, 4}, {2}, ag::DType::f64);
  ag::sum(w * u + w * v).backward();
  CHECK(w.grad().to_vector() == V{4, 6});
}

TEST_CASE("gradients accumulate across backward calls until zero_grad") {
  Tensor x = leaf({1, 2}, {2});
  ag::sum(x * 2.0).backward();
  ag::sum(x * 2.0).backward();
  CHECK(x.grad().to_vector() == V{4, 4});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  ag::sum(x * 5.0).backward();
  CHECK(x.grad().to_vector() == V{5, 5});
}

TEST_CASE("a chain of 100,000 ops neither overflows the stack in backward nor in destruction") {
  Tensor x = leaf({1.0}, {1});
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y + 1e-6;
  ag::sum(y).backward();
  CHECK(x.grad().item() == 1.0);
  // And a graph never back-propagated is freed without recursion either.
  Tensor z = x;
  for (int i = 0; i < 100000; ++i) z = z * 1.0;
  z = Tensor();
  CHECK_FALSE(z.defined());
}

TEST_CASE("the graph is released after backward unless retained") {
  Tensor x = leaf({3}, {1});
  Tensor y = ag::sum(ag::square(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();  // allowed: retained by the first call
  CHECK(x.grad().item() == 12);
  CHECK(y.grad_fn()->released);
  CHECK_THROWS_WITH_AS(y.backward(),
                       "sum: backward through a graph that was already released; call the first backward with "
                       "retain_graph = true to go through it twice",
                       ag::Error);
}

TEST_CASE("backward from a non-scalar needs an explicit upstream gradient") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x * 3.0;
  CHECK_THROWS_WITH_AS(y.backward(),
                       "backward: a gradient can be implied only for a one-element result; got shape [2]: pass the "
                       "upstream gradient",
                       ag::Error);
  y.backward(ag::from_vector({1, 10}, {2}, ag::DType::f64));
  CHECK(x.grad().to_vector() == V{3, 30});
  CHECK_THROWS_WITH_AS(ag::sum(x * 1.0).backward(ag::ones({2}, ag::DType::f64)),
                       "backward: upstream gradient of shape [2] float64 for a result of shape [] float64", ag::Error);
}

TEST_CASE("no-grad scope records nothing and restores the mode") {
  Tensor x = leaf({1}, {1});
  {
    ag::NoGradGuard guard;
    CHECK_FALSE(ag::grad_mode_enabled());
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
    {
      ag::NoGradGuard nested;
    }
    CHECK_FALSE(ag::grad_mode_enabled());
  }
  CHECK(ag::grad_mode_enabled());
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("an enable-grad scope records inside a no-grad one; each scope restores the mode it found") {
  Tensor x = leaf({1}, {1});
  {
    const ag::NoGradGuard no_grad;
    CHECK_FALSE((x * 2.0).requires_grad());
    {
      const ag::EnableGradGuard enable_grad;
      CHECK(ag::grad_mode_enabled());
      Tensor y = x * 3.0;
      REQUIRE(y.requires_grad());
      y.backward();
      CHECK(x.grad().item() == 3);
      {
        const ag::NoGradGuard inner;  // and no-grad again inside it
        CHECK_FALSE(ag::grad_mode_enabled());
        CHECK_FALSE((x * 2.0).requires_grad());
      }
      CHECK(ag::grad_mode_enabled());
    }
    CHECK_FALSE(ag::grad_mode_enabled());
    CHECK_FALSE((x * 2.0).requires_grad());
  }
  CHECK(ag::grad_mode_enabled());
  {
    const ag::EnableGradGuard already_on;  // nothing to change, nothing to restore
    CHECK(ag::grad_mode_enabled());
    {
      const ag::NoGradGuard no_grad;
      CHECK_FALSE(ag::grad_mode_enabled());
    }
    CHECK(ag::grad_mode_enabled());
  }
  CHECK(ag::grad_mode_enabled());
}

TEST_CASE("grad mode is per thread: a scope on one thread leaves the others' mode alone") {
  Tensor x = leaf({1}, {1});
  const ag::NoGradGuard no_grad;  // this thread only
  std::promise<void> inside, done;
  bool fresh = false, enabled = false, records = false;
  std::thread other([&] {
    fresh = ag::grad_mode_enabled();  // a new thread records, whatever this one does
    const ag::NoGradGuard off;
    const ag::EnableGradGuard on;
    enabled = ag::grad_mode_enabled();
    records = (x * 2.0).requires_grad();
    inside.set_value();
    done.get_future().wait();  // keep both scopes alive while the main thread looks
  });
  inside.get_future().wait();
  CHECK_FALSE(ag::grad_mode_enabled());  // the other thread's enable-grad scope does not reach this one
  CHECK_FALSE((x * 2.0).requires_grad());
  done.set_value();
  other.join();
  CHECK(fresh);
  CHECK(enabled);
  CHECK(records);
  CHECK_FALSE(ag::grad_mode_enabled());
}

TEST_CASE("detach cuts the graph; gradients stop there") {
  Tensor x = leaf({2}, {1});
  Tensor y = ag::sum(x * x.detach());  // d/dx = x (the detached factor is a constant)
  y.backward();
  CHECK(x.grad().item() == 2);
  CHECK_FALSE(x.detach().requires_grad());
}

TEST_CASE("backward from a tensor that does not require a gradient is an error") {
  CHECK_THROWS_WITH_AS(ag::ones({1}).backward(),
                       "backward: the tensor does not require a gradient (no input of the ops that made it requires "
                       "one; a gradient can be differentiated again only when computed with create_graph = true)",
                       ag::Error);
}

TEST_CASE("an op without a backward rule says so when backward reaches it") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = ag::record("softsign", x.detach().clone(), {x}, nullptr);
  CHECK_THROWS_WITH_AS(ag::sum(y).backward(), "softsign: backward not implemented", ag::Error);
}

TEST_CASE("a backward rule returning a wrong shape is caught, naming the op and both shapes") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = ag::record("broken", x.detach().clone(), {x},
                        [](const Tensor&, const std::vector<Tensor>&) { return std::vector<Tensor>{ag::ones({3}, ag::DType::f64)}; });
  CHECK_THROWS_WITH_AS(ag::sum(y).backward(),
                       "broken: backward returned a gradient of shape [3] float64 for input 0 of shape [2] float64",
                       ag::Error);
}

TEST_CASE("ag::grad returns gradients without touching .grad, also for intermediates") {
  Tensor x = leaf({1, 2}, {2});
  Tensor h = x * 3.0;
  Tensor y = ag::sum(ag::square(h));
  const auto g = ag::grad(y, {x, h});
  CHECK(g[0].to_vector() == V{18, 36});  // 2h * 3
  CHECK(g[1].to_vector() == V{6, 12});   // 2h
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("anomaly mode names the first op that produced a NaN") {
  Tensor x = leaf({-1, 1}, {2});
  {
    ag::AnomalyModeGuard anomaly;
    CHECK_THROWS_WITH_AS(ag::sqrt(x), "sqrt: forward produced NaN at element 0 of a [2] tensor", ag::Error);
  }
  Tensor quiet = ag::sqrt(x);  // off by default: no check, NaN passes through
  CHECK(std::isnan(quiet.at({0})));
}

TEST_CASE("anomaly mode names the op whose backward produced an Inf") {
  Tensor x = leaf({0, 1}, {2});
  ag::AnomalyModeGuard anomaly;
  Tensor y = ag::sum(ag::sqrt(x));  // forward is finite; d sqrt/dx at 0 is +Inf
  CHECK_THROWS_WITH_AS(y.backward(), "sqrt: backward (gradient for input 0) produced Inf at element 0 of a [2] tensor",
                       ag::Error);
}

TEST_CASE_TEMPLATE("all_finite finds one NaN or Inf at any position, in a vector body or its tail", T, float, double) {
  // Lengths around the 16- and 8-lane vector bodies; the one bad value goes at every position in turn.
  for (const T bad : {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                      -std::numeric_limits<T>::infinity()}) {
    for (std::int64_t n = 1; n <= 40; ++n) {
      std::vector<T> values(static_cast<std::size_t>(n), std::numeric_limits<T>::max());  // finite, largest exponent
      CHECK(ag::all_finite(values.data(), n));
      for (std::int64_t at = 0; at < n; ++at) {
        values[static_cast<std::size_t>(at)] = bad;
        CHECK_FALSE(ag::all_finite(values.data(), n));
        values[static_cast<std::size_t>(at)] = -std::numeric_limits<T>::denorm_min();
      }
      CHECK(ag::all_finite(values.data(), n));
    }
  }
}

TEST_CASE("a backward that throws leaves the retained graph ready for the next one, with the same gradients") {
  // The pass keeps its counts in the nodes; a pass that throws half-way must not leave them behind.
  Tensor x = leaf({1, 2}, {2});
  bool fail_once = true;
  const Tensor shared = ag::square(x);  // two consumers: its count goes to 2 in every pass
  Tensor y = ag::record("flaky", shared.detach().clone(), {shared},
                        [&fail_once](const Tensor& g, const std::vector<Tensor>&) {
                          if (fail_once) {
                            fail_once = false;
                            throw ag::Error("flaky: backward failed");
                          }
                          return std::vector<Tensor>{g};
                        });
  const Tensor loss = ag::sum(y) + ag::sum(shared * 2.0);
  CHECK_THROWS_WITH_AS(loss.backward(Tensor(), /*retain_graph=*/true), "flaky: backward failed", ag::Error);
  x.zero_grad();
  loss.backward(Tensor(), /*retain_graph=*/true);
  CHECK(x.grad().to_vector() == V{6, 12});  // d/dx (x^2 + 2 x^2) = 6x
  x.zero_grad();
  loss.backward();
  CHECK(x.grad().to_vector() == V{6, 12});
}

TEST_CASE("a backward started inside a backward rule through the same graph is refused, naming the node") {
  Tensor x = leaf({1, 2}, {2});
  const Tensor inner = ag::square(x);
  Tensor outer_loss;
  Tensor y = ag::record("reentrant", inner.detach().clone(), {inner},
                        [&outer_loss](const Tensor& g, const std::vector<Tensor>&) {
                          outer_loss.backward(Tensor(), /*retain_graph=*/true);  // the graph this pass is in
                          return std::vector<Tensor>{g};
                        });
  outer_loss = ag::sum(y);
  CHECK_THROWS_WITH_AS(outer_loss.backward(Tensor(), /*retain_graph=*/true),
                       "sum: backward reached a node that another backward pass is going through (a backward inside "
                       "a backward rule, or on two threads at once through one graph)",
                       ag::Error);
}
