// subsample (LeNet-5's S2/S4, sum form), proven three ways: gradcheck; the same layer composed from reshape,
// sum, mul and add; and the closed-form gradients written out here.
#include <autograd/autograd.h>
#include <doctest/doctest.h>

#include "lenet_ops/lenet_ops_support.h"

using namespace lenet_test;

namespace {

struct PoolCase {
  std::int64_t batch, channels, out_h, out_w, k;
  bool bias;
};

std::string describe(const PoolCase& c) {
  return fmt::format("x [{},{},{},{}] k {} bias {}", c.batch, c.channels, c.out_h * c.k, c.out_w * c.k, c.k,
                     c.bias ? "on" : "off");
}

std::vector<PoolCase> sweep() {
  return {{1, 2, 2, 3, 2, true}, {2, 3, 3, 2, 2, true},  {3, 1, 2, 2, 3, true}, {2, 2, 3, 3, 1, true},
          {9, 2, 2, 1, 2, true}, {2, 3, 2, 2, 2, false}, {1, 4, 1, 1, 4, true}};
}

struct PoolInputs {
  Tensor x, coeff, bias;
};

PoolInputs make_inputs(const PoolCase& c, ag::Generator& gen) {
  return {test::param({c.batch, c.channels, c.out_h * c.k, c.out_w * c.k}, gen), test::param({c.channels}, gen),
          c.bias ? test::param({c.channels}, gen) : Tensor()};
}

}  // namespace

TEST_CASE("subsample: forward values on tiny inputs") {
  const Tensor x = ag::from_vector({1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 2, 4}, DType::f64);
  const Tensor coeff = ag::from_vector({0.5}, {1}, DType::f64), bias = ag::from_vector({1}, {1}, DType::f64);
  // Window sums 1+2+5+6 = 14 and 3+4+7+8 = 22 (the sum form), times 0.5, plus 1.
  CHECK(ag::subsample(x, coeff, bias, 2).to_vector() == std::vector<double>{8, 12});
  CHECK(ag::subsample(x, coeff, Tensor(), 2).to_vector() == std::vector<double>{7, 11});
  CHECK(ag::subsample(x, coeff, bias, 1).to_vector() == std::vector<double>{1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5});
  // One coefficient and one bias per map.
  const Tensor x2 = ag::from_vector({1, 1, 1, 1, 2, 2, 2, 2}, {1, 2, 2, 2}, DType::f64);
  const Tensor y2 =
      ag::subsample(x2, ag::from_vector({1, 10}, {2}, DType::f64), ag::from_vector({0, -1}, {2}, DType::f64), 2);
  CHECK(y2.shape() == Shape{1, 2, 1, 1});
  CHECK(y2.to_vector() == std::vector<double>{4, 79});
}

TEST_CASE("subsample: gradcheck over kernels, batch sizes, with and without bias") {
  ag::Generator gen(21);
  for (const auto& c : sweep()) {
    CAPTURE(describe(c));
    const auto in = make_inputs(c, gen);
    const std::int64_t k = c.k;
    CHECK(
        ag::gradcheck([k](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], k); }, {in.x, in.coeff, in.bias}));
  }
}

TEST_CASE("subsample: the hand-written gradient matches the engine's gradient of the composed layer") {
  ag::Generator gen(22);
  auto cases = sweep();
  cases.push_back({64, 6, 14, 14, 2, true});  // S2 at full size
  cases.push_back({5, 16, 5, 5, 2, true});    // S4
  for (const auto& c : cases) {
    CAPTURE(describe(c));
    const auto in = make_inputs(c, gen);
    const std::int64_t k = c.k;
    const Tensor fused = ag::subsample(in.x, in.coeff, in.bias, k);
    CHECK(max_abs_diff(fused, subsample_composed(in.x, in.coeff, in.bias, k)) < 1e-12);
    const Tensor up = ag::normal(fused.shape(), 0, 1, gen, DType::f64);
    const auto g1 =
        gradients([k](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], k); }, {in.x, in.coeff, in.bias}, up);
    const auto g2 = gradients([k](const Inputs& v) { return subsample_composed(v[0], v[1], v[2], k); },
                              {in.x, in.coeff, in.bias}, up);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(g1[i].defined() == g2[i].defined());
      if (g1[i].defined()) CHECK(max_abs_diff(g1[i], g2[i]) < 1e-10);
    }
  }
}

TEST_CASE("subsample: the gradients equal their closed forms") {
  // With S[n,c,i,j] = sum_{a,b<k} x[n,c,k i+a,k j+b] (the window sums) and G the upstream gradient:
  //   dL/dx[n,c,y,x]  = coeff[c] G[n,c,y/k,x/k]   (the upstream gradient spread over each window, times coeff)
  //   dL/dcoeff[c]    = sum_{n,i,j} G[n,c,i,j] S[n,c,i,j]
  //   dL/dbias[c]     = sum_{n,i,j} G[n,c,i,j]
  ag::Generator gen(23);
  for (const auto& c : sweep()) {
    if (!c.bias) continue;
    CAPTURE(describe(c));
    const auto in = make_inputs(c, gen);
    const std::int64_t k = c.k;
    const Tensor y = ag::subsample(in.x, in.coeff, in.bias, k);
    const Tensor g = ag::normal(y.shape(), 0, 1, gen, DType::f64);
    const auto grads =
        gradients([k](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], k); }, {in.x, in.coeff, in.bias}, g);
    Tensor gx = ag::zeros(in.x.shape(), DType::f64), gc = ag::zeros({c.channels}, DType::f64);
    Tensor gb = ag::zeros({c.channels}, DType::f64);
    for (std::int64_t n = 0; n < c.batch; ++n)
      for (std::int64_t ch = 0; ch < c.channels; ++ch)
        for (std::int64_t i = 0; i < c.out_h; ++i)
          for (std::int64_t j = 0; j < c.out_w; ++j) {
            const double up = g.at({n, ch, i, j});
            double window = 0;
            for (std::int64_t a = 0; a < k; ++a)
              for (std::int64_t b = 0; b < k; ++b) {
                window += in.x.at({n, ch, i * k + a, j * k + b});
                gx.set({n, ch, i * k + a, j * k + b}, in.coeff.at({ch}) * up);
              }
            gc.set({ch}, gc.at({ch}) + up * window);
            gb.set({ch}, gb.at({ch}) + up);
          }
    CHECK(max_abs_diff(grads[0], gx) < 1e-12);
    CHECK(max_abs_diff(grads[1], gc) < 1e-12);
    CHECK(max_abs_diff(grads[2], gb) < 1e-12);
  }
}

TEST_CASE("subsample: float32 agrees with float64, and a coefficient marked trainable after the forward works") {
  ag::Generator gen(24);
  for (const PoolCase& c : {PoolCase{64, 6, 14, 14, 2, true}, PoolCase{64, 16, 5, 5, 2, true}}) {
    CAPTURE(describe(c));
    const auto in = make_inputs(c, gen);
    const Tensor y64 = ag::subsample(in.x, in.coeff, in.bias, 2);
    const Tensor up = ag::normal(y64.shape(), 0, 1, gen, DType::f64);
    const auto g64 =
        gradients([](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], 2); }, {in.x, in.coeff, in.bias}, up);
    Inputs in32{to_f32(in.x), to_f32(in.coeff), to_f32(in.bias)};
    for (auto& t : in32) t.requires_grad_();
    CHECK(max_rel_diff(ag::subsample(in32[0], in32[1], in32[2], 2), y64) < 1e-5);
    const auto g32 = gradients([](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], 2); }, in32, to_f32(up));
    for (std::size_t i = 0; i < 3; ++i) CHECK(max_rel_diff(g32[i], g64[i]) < 1e-5);
  }
  // The window sums are kept only when coeff requires a gradient at the forward; if it is marked later,
  // the backward recomputes them.
  const Tensor x = test::param({2, 2, 4, 4}, gen);
  Tensor coeff = ag::uniform({2}, -1, 1, gen, DType::f64);
  const Tensor y = ag::subsample(x, coeff, Tensor(), 2);
  coeff.requires_grad_();
  y.backward(ag::ones_like(y));
  const auto expected = gradients([](const Inputs& v) { return subsample_composed(v[0], v[1], v[2], 2); },
                                  {x, coeff, Tensor()}, ag::ones_like(y));
  CHECK(max_abs_diff(coeff.grad(), expected[1]) < 1e-12);
}

TEST_CASE("subsample: bad arguments name the op and the shapes") {
  using ag::zeros;
  CHECK_THROWS_WITH_AS(ag::subsample(zeros({6, 28, 28}), zeros({6}), zeros({6})),
                       "subsample: expects input [N,C,H,W], got input [6,28,28], coeff [6], bias [6]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::subsample(zeros({2, 6, 28, 28}), zeros({5}), zeros({6})),
                       "subsample: expects coeff [6] and bias [6] for 6 input maps, got input [2,6,28,28], coeff [5], "
                       "bias [6]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::subsample(zeros({2, 6, 28, 28}), zeros({6}), zeros({1, 6})),
                       "subsample: expects coeff [6] and bias [6] for 6 input maps, got input [2,6,28,28], coeff [6], "
                       "bias [1,6]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::subsample(zeros({2, 6, 27, 28}), zeros({6}), zeros({6}), 2),
                       "subsample: height 27 and width 28 must be divisible by the kernel 2: input [2,6,27,28]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::subsample(zeros({2, 6, 28, 28}), zeros({6}), zeros({6}), 0),
                       "subsample: kernel must be at least 1, got 0: input [2,6,28,28]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::subsample(zeros({2, 6, 28, 28}), zeros({6}, DType::f64), zeros({6})),
                       "subsample: dtypes differ: input [2,6,28,28] float32, coeff [6] float64, bias [6] float32",
                       ag::Error);
}

TEST_CASE("subsample and linear with a fused activation: the same bits as the op then the activation op") {
  // As conv2d's epilogue (test_conv2d.cpp): the activation's element rule on each output, its gradient rule
  // from the output first in backward; so values and gradients match bit for bit, and gradcheck holds.
  ag::Generator gen(37);
  for (const ag::Activation activation :
       {ag::Activation::relu, ag::Activation::tanh, ag::Activation::scaled_tanh, ag::Activation::sigmoid})
    for (const DType dtype : {DType::f32, DType::f64}) {
      CAPTURE(ag::activation_name(activation));
      CAPTURE(ag::dtype_name(dtype));
      const auto leaf = [&](const Shape& shape) {
        return ag::to_dtype(test::param(shape, gen), dtype).detach().requires_grad_();
      };
      const Inputs pool_inputs{leaf({3, 4, 6, 8}), leaf({4}), leaf({4})};
      const Inputs linear_inputs{leaf({5, 7}), leaf({3, 7}), leaf({3})};
      const std::vector<std::pair<std::function<Tensor(const Inputs&)>, std::function<Tensor(const Inputs&)>>> pairs{
          {[&](const Inputs& v) { return ag::subsample(v[0], v[1], v[2], 2, activation); },
           [&](const Inputs& v) { return ag::activate(ag::subsample(v[0], v[1], v[2], 2), activation); }},
          {[&](const Inputs& v) { return ag::linear(v[0], v[1], v[2], activation); },
           [&](const Inputs& v) { return ag::activate(ag::linear(v[0], v[1], v[2]), activation); }}};
      for (std::size_t which = 0; which < pairs.size(); ++which) {
        CAPTURE(which == 0 ? "subsample" : "linear");
        const Inputs& inputs = which == 0 ? pool_inputs : linear_inputs;
        check_fused_matches(pairs[which].first, pairs[which].second, inputs, gen);
      }
    }
}
