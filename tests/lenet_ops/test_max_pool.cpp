// max_pool2d, proven three ways: gradcheck (test points kept away from ties); the same pooling composed from
// reshape/transpose (or shifted slices) and max along a dimension; and the closed-form routing written out here.
#include <autograd/autograd.h>
#include <doctest/doctest.h>

#include "lenet_ops/lenet_ops_support.h"

using namespace lenet_test;

namespace {

struct MaxCase {
  std::int64_t batch, channels, height, width, k, stride;
};

std::string describe(const MaxCase& c) {
  return fmt::format("x [{},{},{},{}] k {} stride {}", c.batch, c.channels, c.height, c.width, c.k, c.stride);
}

/// Non-overlapping and overlapping windows, sizes that do and do not divide, batch sizes 1 to 9.
std::vector<MaxCase> sweep() {
  return {{1, 2, 4, 6, 2, 2}, {2, 1, 7, 5, 3, 2}, {3, 2, 4, 4, 2, 1},
          {2, 2, 7, 8, 3, 3}, {9, 1, 4, 4, 2, 2}, {2, 3, 5, 5, 1, 2}};
}

}  // namespace

TEST_CASE("max_pool2d: forward values on tiny inputs") {
  std::vector<double> ramp(16);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<double>(i + 1);
  const Tensor x = ag::from_vector(ramp, {1, 1, 4, 4}, DType::f64);
  CHECK(ag::max_pool2d(x, 2).to_vector() == std::vector<double>{6, 8, 14, 16});
  CHECK(ag::max_pool2d(x, 2, 1).to_vector() == std::vector<double>{6, 7, 8, 10, 11, 12, 14, 15, 16});
  CHECK(ag::max_pool2d(x, 3, 1).to_vector() == std::vector<double>{11, 12, 15, 16});
  CHECK(ag::max_pool2d(x, 3, 3).to_vector() == std::vector<double>{11});  // the last row and column are not read
  const Tensor neg = ag::from_vector({-5, -2, -7, -3}, {1, 1, 2, 2}, DType::f32);
  CHECK(ag::max_pool2d(neg, 2).to_vector() == std::vector<double>{-2});
}

TEST_CASE("max_pool2d: the tie rule and overlapping windows") {
  // All equal: the first element in row-major window order gets the gradient.
  Tensor flat = ag::full({1, 1, 2, 2}, 3.0, DType::f64);
  flat.requires_grad_();
  ag::max_pool2d(flat, 2).backward(ag::full({1, 1, 1, 1}, 5.0, DType::f64));
  CHECK(flat.grad().to_vector() == std::vector<double>{5, 0, 0, 0});
  // A tie between (0,1) and (1,0): (0,1) comes first in row-major order.
  Tensor tie = ag::from_vector({1, 3, 3, 0}, {1, 1, 2, 2}, DType::f64);
  tie.requires_grad_();
  ag::max_pool2d(tie, 2).backward(ag::ones({1, 1, 1, 1}, DType::f64));
  CHECK(tie.grad().to_vector() == std::vector<double>{0, 1, 0, 0});
  // Overlapping windows that share their maximum: its gradient is the sum over those windows.
  Tensor peak = ag::from_vector({0, 0, 0, 0, 9, 0, 0, 0, 0}, {1, 1, 3, 3}, DType::f64);
  peak.requires_grad_();
  ag::max_pool2d(peak, 2, 1).backward(ag::from_vector({1, 2, 3, 4}, {1, 1, 2, 2}, DType::f64));
  CHECK(peak.grad().to_vector() == std::vector<double>{0, 0, 0, 0, 10, 0, 0, 0, 0});
}

TEST_CASE("max_pool2d: gradcheck away from ties") {
  ag::Generator gen(31);
  for (const auto& c : sweep()) {
    CAPTURE(describe(c));
    const Tensor x = distinct_values({c.batch, c.channels, c.height, c.width}, gen);
    CHECK(ag::gradcheck([&](const Inputs& v) { return ag::max_pool2d(v[0], c.k, c.stride); }, {x}));
  }
}

TEST_CASE("max_pool2d: the hand-written gradient matches the engine's gradient of the composed pooling") {
  ag::Generator gen(32);
  auto cases = sweep();
  cases.push_back({64, 6, 28, 28, 2, 2});  // LeNet's size
  for (const auto& c : cases) {
    CAPTURE(describe(c));
    const Tensor x = distinct_values({c.batch, c.channels, c.height, c.width}, gen);
    const Tensor fused = ag::max_pool2d(x, c.k, c.stride);
    const Tensor up = ag::normal(fused.shape(), 0, 1, gen, DType::f64);
    const auto g1 = gradients([&](const Inputs& v) { return ag::max_pool2d(v[0], c.k, c.stride); }, {x}, up);
    // Any window: the k k shifted slices stacked along a new axis, max along it.
    CHECK(max_abs_diff(fused, max_pool_stacked(x, c.k, c.stride)) == 0.0);
    const auto g2 = gradients([&](const Inputs& v) { return max_pool_stacked(v[0], c.k, c.stride); }, {x}, up);
    CHECK(max_abs_diff(g1[0], g2[0]) < 1e-10);
    // Non-overlapping windows that tile the map: reshape, transpose and max along the flattened window.
    if (c.stride == c.k && c.height % c.k == 0 && c.width % c.k == 0) {
      CHECK(max_abs_diff(fused, max_pool_composed(x, c.k)) == 0.0);
      const auto g3 = gradients([&](const Inputs& v) { return max_pool_composed(v[0], c.k); }, {x}, up);
      CHECK(max_abs_diff(g1[0], g3[0]) < 1e-10);
    }
  }
  // With ties the composed max (first maximal element along the flattened window) agrees too: same rule.
  // Rows of 3, 5 (C3's maps) and 18 windows: rows narrower than a vector (read in place, and at the end of
  // the input from padded copies) and the vector path, in both dtypes.
  for (DType dtype : {DType::f64, DType::f32})
    for (const Shape& shape : {Shape{3, 2, 6, 6}, Shape{2, 3, 10, 10}, Shape{3, 2, 12, 36}}) {
      CAPTURE(ag::dtype_name(dtype));
      CAPTURE(ag::shape_str(shape));
      Tensor ties = ag::uniform(shape, 0, 1, gen, DType::f64);
      for (std::int64_t i = 0; i < ties.numel(); ++i) ties.mutable_data<double>()[i] = std::floor(ties.data<double>()[i] * 3);
      ties = ag::to_dtype(ties, dtype);
      ties.requires_grad_();
      const Tensor up =
          ag::to_dtype(ag::normal({shape[0], shape[1], shape[2] / 2, shape[3] / 2}, 0, 1, gen, DType::f64), dtype);
      const auto t1 = gradients([](const Inputs& v) { return ag::max_pool2d(v[0], 2); }, {ties}, up);
      const auto t2 = gradients([](const Inputs& v) { return max_pool_composed(v[0], 2); }, {ties}, up);
      CHECK(t1[0].to_vector() == t2[0].to_vector());
      CHECK(ag::max_pool2d(ties, 2).to_vector() == max_pool_composed(ties, 2).to_vector());
    }
}

TEST_CASE("max_pool2d: the gradient is the upstream gradient routed to each window's first maximum") {
  // dL/dx[n,c,y,x] = sum over the windows (i,j) whose first maximal element (row-major) is (y,x) of G[n,c,i,j].
  ag::Generator gen(33);
  for (const auto& c : sweep()) {
    CAPTURE(describe(c));
    const Tensor x = distinct_values({c.batch, c.channels, c.height, c.width}, gen);
    const Tensor y = ag::max_pool2d(x, c.k, c.stride);
    const Tensor g = ag::normal(y.shape(), 0, 1, gen, DType::f64);
    const auto grads = gradients([&](const Inputs& v) { return ag::max_pool2d(v[0], c.k, c.stride); }, {x}, g);
    Tensor expected = ag::zeros(x.shape(), DType::f64);
    for (std::int64_t n = 0; n < c.batch; ++n)
      for (std::int64_t ch = 0; ch < c.channels; ++ch)
        for (std::int64_t i = 0; i < y.size(2); ++i)
          for (std::int64_t j = 0; j < y.size(3); ++j) {
            std::int64_t by = i * c.stride, bx = j * c.stride;
            for (std::int64_t a = 0; a < c.k; ++a)
              for (std::int64_t b = 0; b < c.k; ++b)
                if (x.at({n, ch, i * c.stride + a, j * c.stride + b}) > x.at({n, ch, by, bx}))
                  by = i * c.stride + a, bx = j * c.stride + b;
            CHECK(y.at({n, ch, i, j}) == x.at({n, ch, by, bx}));
            expected.set({n, ch, by, bx}, expected.at({n, ch, by, bx}) + g.at({n, ch, i, j}));
          }
    CHECK(max_abs_diff(grads[0], expected) < 1e-12);
  }
}

TEST_CASE("max_pool2d: float32 agrees with float64") {
  ag::Generator gen(34);
  const Tensor x = distinct_values({64, 6, 28, 28}, gen);
  const Tensor y64 = ag::max_pool2d(x, 2);
  const Tensor up = ag::normal(y64.shape(), 0, 1, gen, DType::f64);
  const auto g64 = gradients([](const Inputs& v) { return ag::max_pool2d(v[0], 2); }, {x}, up);
  Tensor x32 = to_f32(x);
  x32.requires_grad_();
  const Tensor y32 = ag::max_pool2d(x32, 2);
  CHECK(y32.dtype() == DType::f32);
  CHECK(max_rel_diff(y32, y64) < 1e-6);
  const auto g32 = gradients([](const Inputs& v) { return ag::max_pool2d(v[0], 2); }, {x32}, to_f32(up));
  CHECK(max_rel_diff(g32[0], g64[0]) < 1e-6);
}

TEST_CASE("max_pool2d: bad arguments name the op and the shapes") {
  using ag::zeros;
  CHECK_THROWS_WITH_AS(ag::max_pool2d(zeros({6, 28, 28}), 2), "max_pool2d: expects input [N,C,H,W], got [6,28,28]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::max_pool2d(zeros({1, 1, 3, 3}), 4),
                       "max_pool2d: kernel 4x4 is larger than the input 3x3: input [1,1,3,3]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::max_pool2d(zeros({1, 1, 4, 4}), 2, 0),
                       "max_pool2d: kernel and stride must be at least 1, got kernel 2 and stride 0: input [1,1,4,4]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::max_pool2d(zeros({1, 1, 4, 4}), 0),
                       "max_pool2d: kernel and stride must be at least 1, got kernel 0 and stride 0: input [1,1,4,4]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::max_pool2d(ag::from_indices({1, 2, 3, 4}, {1, 1, 2, 2}), 2),
                       "max_pool2d: expects a float32 or float64 tensor, got int64: input [1,1,2,2]", ag::Error);
}

TEST_CASE("max_pool2d: windows, strides and padding per axis") {
  using ag::zeros;
  // x = 1..16 in a 4x4 map. A 2x3 window (2 rows, 3 columns), stride (2, 1), padding (0, 1): columns -1..4.
  const Tensor x = ag::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {1, 1, 4, 4}, DType::f64);
  const Tensor y = ag::max_pool2d(x, {2, 3}, {2, 1}, {0, 1});
  CHECK(y.shape() == Shape{1, 1, 2, 4});
  CHECK(y.to_vector() == std::vector<double>{6, 7, 8, 8, 14, 15, 16, 16});
  // Negative values: the padding is never the maximum (it is no value, not 0).
  const Tensor negative = ag::mul(x, -1.0);
  CHECK(ag::max_pool2d(negative, 3, 1, 1).to_vector()[0] == -1);
  ag::Generator gen(44);
  const Tensor r = test::param({2, 2, 5, 6}, gen);
  for (const auto activation : {ag::Activation::none, ag::Activation::tanh}) {
    const auto f = [&](const Inputs& v) { return ag::max_pool2d(v[0], {3, 2}, {2, 1}, {1, 1}, activation); };
    CHECK(ag::gradcheck(f, {r}));
    CHECK(ag::gradgradcheck(f, {r}));
  }
  CHECK_THROWS_WITH_AS(ag::max_pool2d(zeros({1, 1, 4, 4}), 2, 2, {0, 2}),
                       "max_pool2d: padding must be between 0 and half the kernel, got padding 0x2 for kernel 2: "
                       "input [1,1,4,4]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::max_pool2d(zeros({1, 1, 1, 4}), 4, 1, 1),
                       "max_pool2d: kernel 4x4 is larger than the padded input 3x6: input [1,1,1,4]", ag::Error);
}
