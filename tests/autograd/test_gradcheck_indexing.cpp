// The slicing, indexing and joining ops, permute and softmax, proven by gradcheck (central differences in
// float64); then each one's backward rule, run with recording on, proven the same way: the rules are built of
// recorded ops, so that higher-order gradients can go through them.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <functional>
#include <string>

#include "support/random_inputs.h"

using ag::Tensor;
using Inputs = std::vector<Tensor>;

namespace {

using Op = std::function<Tensor(const Tensor&)>;

/// Returns input `input`'s gradient as the backward rule of y = op(x) computes it from the upstream gradient
/// g, with recording on, as a higher-order pass would run it: a graph result of g (and of x, for softmax).
Tensor rule_of(const Op& op, const Tensor& x, const Tensor& g, std::size_t input) {
  const ag::EnableGradGuard recording;  // also inside gradcheck, which evaluates its function without a graph
  Tensor source = x;
  if (!source.requires_grad()) {  // gradcheck's moved copy of an input
    source = x.detach();
    source.requires_grad_();
  }
  const Tensor y = op(source);
  REQUIRE(y.grad_fn() != nullptr);
  return y.grad_fn()->backward(g, y.grad_fn()->inputs)[input];
}

}  // namespace

TEST_CASE("gradcheck: slice, narrow and select along each dimension, unslice") {
  ag::Generator gen(40);
  Tensor x = test::param({3, 5, 4}, gen);
  for (std::int64_t dim = -3; dim < 3; ++dim) {
    CAPTURE(dim);
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::slice(in[0], dim, 1, -1, 2); }, {x}));
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::slice(in[0], dim, 0, 3, 1); }, {x}));
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::narrow(in[0], dim, 1, 2); }, {x}));
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::select(in[0], dim, -1); }, {x}));
  }
  Tensor src = test::param({3, 2, 4}, gen);
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::unslice(in[0], {3, 5, 4}, 1, 0, 5, 3); }, {src}));
  // Overlapping slices of one tensor: their gradients sum.
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::narrow(in[0], 1, 0, 3) * ag::narrow(in[0], 1, 2, 3); }, {x}));
}

TEST_CASE("gradcheck: index_select and index_add, repeated indices included") {
  ag::Generator gen(41);
  Tensor x = test::param({4, 3}, gen);
  const Tensor rows = ag::from_indices({2, 0, 2}, {3});
  const Tensor cols = ag::from_indices({1, 1}, {2});
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::index_select(in[0], 0, rows); }, {x}));
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::index_select(in[0], -1, cols); }, {x}));
  Tensor source = test::param({3, 3}, gen);
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::index_add(in[0], 0, rows, in[1]); }, {x, source}));
  Tensor x3 = test::param({2, 4, 3}, gen), source3 = test::param({2, 2, 3}, gen);
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::index_add(in[0], 1, cols, in[1]); }, {x3, source3}));
}

TEST_CASE("gradcheck: gather and scatter_add, along each dimension, with an index smaller than x") {
  ag::Generator gen(42);
  Tensor x = test::param({3, 4}, gen);
  const Tensor along_cols = ag::from_indices({0, 3, 3, 1, 2, 2}, {3, 2});
  const Tensor along_rows = ag::from_indices({2, 1, 0, 0, 2, 2, 1, 0}, {2, 4});
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::gather(in[0], 1, along_cols); }, {x}));
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::gather(in[0], 0, along_rows); }, {x}));
  Tensor x3 = test::param({2, 3, 4}, gen);
  const Tensor middle = ag::from_indices({0, 2, 1, 1, 2, 0, 0, 0, 1, 2, 2, 2}, {2, 2, 3});
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::gather(in[0], -2, middle); }, {x3}));
  Tensor src = test::param({3, 2}, gen);
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::scatter_add(in[0], 1, along_cols, in[1]); }, {x, src}));
  Tensor src3 = test::param({2, 2, 3}, gen);
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::scatter_add(in[0], 1, middle, in[1]); }, {x3, src3}));
}

TEST_CASE("gradcheck: cat and stack along each dimension, a constant among the inputs") {
  ag::Generator gen(43);
  Tensor a = test::param({2, 3}, gen), b = test::param({2, 1}, gen), c = test::param({2, 3}, gen);
  const Tensor constant = ag::uniform({2, 2}, -1, 1, gen, ag::DType::f64);
  CHECK(ag::gradcheck([=](const Inputs& in) { return ag::cat({in[0], constant, in[1]}, 1); }, {a, b}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::cat({in[0], in[1], in[0]}, 0); }, {a, c}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::cat({in[0]}, -1); }, {a}));
  for (std::int64_t dim = -3; dim < 3; ++dim) {
    CAPTURE(dim);
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::stack({in[0], in[1], in[0]}, dim); }, {a, c}));
  }
}

TEST_CASE("gradcheck: permute, softmax along each dimension") {
  ag::Generator gen(44);
  Tensor x = test::param({2, 3, 4}, gen, -3.0, 3.0);
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::permute(in[0], {2, 0, 1}); }, {x}));
  CHECK(ag::gradcheck([](const Inputs& in) { return ag::permute(in[0], {-1, -2, 0}); }, {x}));
  for (std::int64_t dim = -3; dim < 3; ++dim) {
    CAPTURE(dim);
    CHECK(ag::gradcheck([=](const Inputs& in) { return ag::softmax(in[0], dim); }, {x}));
  }
}

TEST_CASE("each rule is made of recorded ops: its gradient passes gradcheck") {
  ag::Generator gen(45);
  Tensor x = test::param({3, 4}, gen, -2.0, 2.0);
  const Tensor index = ag::from_indices({2, 0, 2}, {3});
  const Tensor aligned = ag::from_indices({0, 3, 3, 1, 2, 2}, {3, 2});
  // For each op: its result on x, the input whose gradient is checked, and the op its rule ends with. The
  // rules but softmax's are linear in g alone; softmax's depends on x too, so it is checked through both.
  struct Case {
    Op op;
    std::size_t input;
    std::string rule;
  };
  const std::vector<Case> cases = {
      {[](const Tensor& t) { return ag::slice(t, 1, 0, 4, 2); }, 0, "unslice"},
      {[](const Tensor& t) { return ag::narrow(t, 0, 1, 2); }, 0, "unslice"},
      {[](const Tensor& t) { return ag::select(t, 1, 2); }, 0, "unslice"},
      {[](const Tensor& t) { return ag::unslice(t, {3, 8}, 1, 1, 8, 2); }, 0, "slice"},
      {[&](const Tensor& t) { return ag::index_select(t, 0, index); }, 0, "index_add"},
      {[&](const Tensor& t) { return ag::index_add(ag::zeros({3, 4}, ag::DType::f64), 0, index, t); }, 2, "index_select"},
      {[&](const Tensor& t) { return ag::gather(t, 1, aligned); }, 0, "scatter_add"},
      {[&](const Tensor& t) {
         return ag::scatter_add(ag::zeros({3, 5}, ag::DType::f64), 1, aligned, ag::narrow(t, 1, 0, 2));
       },
       2, "gather"},
      {[](const Tensor& t) { return ag::cat({t, t}, 1); }, 1, "narrow"},
      {[](const Tensor& t) { return ag::stack({t, t}, 2); }, 1, "select"},
      {[](const Tensor& t) { return ag::permute(t, {1, 0}); }, 0, "permute"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.rule);
    Tensor g = test::param(c.op(x).shape(), gen);
    const Tensor gradient = rule_of(c.op, x, g, c.input);
    REQUIRE(gradient.grad_fn() != nullptr);
    CHECK(gradient.grad_fn()->name == c.rule);
    CHECK(ag::gradcheck([&](const Inputs& in) { return rule_of(c.op, x, in[0], c.input); }, {g}));
  }
  // softmax's rule, dL/dx = y (g - sum(g y)), depends on x through y: checked through x and g.
  Tensor g = test::param({3, 4}, gen);
  const Op softmax = [](const Tensor& t) { return ag::softmax(t, 1); };
  CHECK(ag::gradcheck([&](const Inputs& in) { return rule_of(softmax, in[0], in[1], 0); }, {x, g}));
  // A plain pass runs the rule with recording off: it reads the saved output, and gives the same values.
  const Tensor y = ag::softmax(x, 1);
  Tensor plain;
  {
    const ag::NoGradGuard no_grad;
    plain = y.grad_fn()->backward(g, y.grad_fn()->inputs)[0];
  }
  CHECK_FALSE(plain.requires_grad());
  CHECK(plain.to_vector() == rule_of(softmax, x, g, 0).to_vector());
}
