// conv2d, proven three ways: gradcheck against central differences; the same convolution composed from the
// engine's primitive ops, whose gradient the engine derives; and the closed-form gradients written out here.
#include <autograd/autograd.h>
#include <models/connection_table.h>
#include <doctest/doctest.h>

#include "kernels/row_lanes_product.h"
#include "lenet_ops/lenet_ops_support.h"

using namespace lenet_test;

namespace {

/// One convolution set-up: shapes, stride, padding and whether a connection table is used.
struct ConvCase {
  std::int64_t batch, channels, outputs, height, width, kh, kw, stride, padding;
  bool table;
};

std::string describe(const ConvCase& c) {
  return fmt::format("x [{},{},{},{}] w [{},{},{},{}] stride {} padding {} table {}", c.batch, c.channels, c.height,
                     c.width, c.outputs, c.channels, c.kh, c.kw, c.stride, c.padding, c.table ? "on" : "off");
}

/// The sweep: strides 1 and 2, padding 0 and 2, table on and off, batch sizes 1, 2 and 3, and output sizes
/// on both sides of the kernel's layout switch (16 positions): 2x2 ... 9x9.
std::vector<ConvCase> sweep() {
  std::vector<ConvCase> cases;
  std::int64_t batch = 1;
  for (std::int64_t stride : {1, 2})
    for (std::int64_t padding : {0, 2})
      for (bool table : {false, true})
        for (std::int64_t size : {4, 7}) {
          cases.push_back({batch, 3, 4, size, size + 1, 3, 2, stride, padding, table});
          batch = batch % 3 + 1;
        }
  return cases;
}

struct ConvInputs {
  Tensor x, w, b;
  ag::Conv2dOptions options;
};

ConvInputs make_inputs(const ConvCase& c, ag::Generator& gen, bool with_bias = true) {
  ConvInputs in;
  in.x = test::param({c.batch, c.channels, c.height, c.width}, gen);
  in.w = test::param({c.outputs, c.channels, c.kh, c.kw}, gen);
  if (with_bias) in.b = test::param({c.outputs}, gen);
  in.options.stride = c.stride;
  in.options.padding = c.padding;
  if (c.table) in.options.table = random_table(c.outputs, c.channels, gen);
  return in;
}

/// x[n,c,y,x] with 0 outside the input (the zero padding).
double padded_at(const Tensor& x, std::int64_t n, std::int64_t c, std::int64_t y, std::int64_t xx) {
  if (y < 0 || y >= x.size(2) || xx < 0 || xx >= x.size(3)) return 0.0;
  return x.at({n, c, y, xx});
}

}  // namespace

TEST_CASE("conv2d: forward values on tiny inputs") {
  const Tensor x = ag::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, DType::f64);
  const Tensor w = ag::from_vector({1, 2, 3, 4}, {1, 1, 2, 2}, DType::f64);
  // y[i,j] = 1 x[i,j] + 2 x[i,j+1] + 3 x[i+1,j] + 4 x[i+1,j+1]: 1+4+12+20 = 37, 2+6+15+24 = 47, ...
  CHECK(ag::conv2d(x, w).to_vector() == std::vector<double>{37, 47, 67, 77});
  CHECK(ag::conv2d(x, w, ag::from_vector({0.5}, {1}, DType::f64)).to_vector() ==
        std::vector<double>{37.5, 47.5, 67.5, 77.5});
  // Padding 1, stride 2: windows start at (-1,-1), (-1,1), (1,-1), (1,1) of the 5x5 padded input.
  ag::Conv2dOptions o;
  o.stride = 2;
  o.padding = 1;
  const Tensor y = ag::conv2d(x, w, Tensor(), o);
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector() == std::vector<double>{4 * 1, 3 * 2 + 4 * 3, 2 * 4 + 4 * 7, 1 * 5 + 2 * 6 + 3 * 8 + 4 * 9});
  // Two input maps, two output maps; map 1 reads only input map 1.
  const Tensor x2 = ag::from_vector({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2}, DType::f64);
  const Tensor w2 = ag::from_vector({1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 0, 0, -1}, {2, 2, 2, 2}, DType::f64);
  CHECK(ag::conv2d(x2, w2).to_vector() == std::vector<double>{10 + 200, 30 + 10 - 40});
  ag::Conv2dOptions t;
  t.table = ag::ConnectionTable(2, 2, {1, 1, 0, 1});
  CHECK(ag::conv2d(x2, w2, Tensor(), t).to_vector() == std::vector<double>{10 + 200, 10 - 40});
}

TEST_CASE("conv2d: gradcheck over strides, paddings, tables and batch sizes") {
  ag::Generator gen(11);
  for (const auto& c : sweep()) {
    CAPTURE(describe(c));
    const auto in = make_inputs(c, gen);
    const auto f = [&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], in.options); };
    CHECK(ag::gradcheck(f, {in.x, in.w, in.b}));
  }
  SUBCASE("without a bias, and with only some inputs requiring a gradient") {
    ConvCase c{2, 2, 3, 6, 5, 3, 3, 1, 1, false};
    auto in = make_inputs(c, gen, false);
    const auto f = [&](const Inputs& v) { return ag::conv2d(v[0], v[1], Tensor(), in.options); };
    CHECK(ag::gradcheck(f, {in.x, in.w}));
    in.x.requires_grad_(false);
    CHECK(ag::gradcheck(f, {in.x, in.w}));
  }
  SUBCASE("LeNet's C3 table on a small map, and a C5-like 1x1 output (fast mode)") {
    ag::GradcheckOptions fast;
    fast.fast_mode = true;
    ag::Conv2dOptions c3;
    c3.table = ag::models::lenet5_c3_table();
    const Tensor x = test::param({2, 6, 7, 7}, gen), w = test::param({16, 6, 5, 5}, gen), b = test::param({16}, gen);
    CHECK(ag::gradcheck([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], c3); }, {x, w, b}, fast));
    const Tensor x5 = test::param({3, 16, 5, 5}, gen), w5 = test::param({12, 16, 5, 5}, gen);
    CHECK(ag::gradcheck([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2]); }, {x5, w5, test::param({12}, gen)},
                        fast));
  }
}

TEST_CASE("conv2d: the hand-written gradient matches the engine's gradient of the composed convolution") {
  ag::Generator gen(12);
  auto cases = sweep();
  cases.push_back({9, 3, 5, 8, 8, 5, 5, 1, 0, true});     // more samples than chunks
  cases.push_back({2, 1, 6, 12, 12, 5, 5, 1, 0, false});  // C1-like
  cases.push_back({3, 16, 10, 5, 5, 5, 5, 1, 0, false});  // C5-like: one output position
  cases.push_back({17, 3, 5, 5, 5, 5, 5, 1, 0, false});   // the same from 16 samples up: x read as its columns
  cases.push_back({18, 2, 3, 3, 3, 5, 5, 1, 1, false});   // one output position that is not the whole input
  cases.push_back({2, 2, 3, 9, 7, 2, 4, 3, 1, false});    // stride 3, unequal kernel sides
  cases.push_back({2, 2, 3, 18, 19, 3, 4, 1, 2, true});   // padded rows longer than a vector (input gradient)
  cases.push_back({2, 3, 14, 9, 15, 3, 3, 1, 1, false});  // forward vectorised over 14 maps, rows of 15
  cases.push_back({3, 4, 16, 7, 6, 3, 2, 1, 0, false});   // the same over 16 maps
  cases.push_back({1, 2, 14, 4, 5, 3, 3, 1, 0, true});    // and over fewer positions than a vector's lanes
  cases.push_back({5, 3, 20, 4, 4, 3, 3, 1, 0, false});   // patch-major over 20 receptive fields: W transposed
  // Rows of 10 outputs from a 5x5 kernel: the input gradient vectorised over the maps (direct_input_row),
  // padded (its rows' ends dropped), over maps past a vector's lanes, and through a table.
  cases.push_back({2, 3, 20, 12, 12, 5, 5, 1, 1, false});
  cases.push_back({3, 4, 9, 14, 14, 5, 5, 1, 0, true});
  cases.push_back({1, 2, 17, 12, 10, 5, 5, 1, 2, false});  // padding 2: 12 rows of 10 outputs
  // Rows of 28 outputs from a 5x5 kernel, few maps: vectorised along the rows (kernels/conv/rows_vectorised.cpp), the
  // input read in place (C1), padded (the modern C1), and an odd number of rows through a table.
  cases.push_back({3, 1, 6, 32, 32, 5, 5, 1, 0, false});
  cases.push_back({2, 1, 6, 28, 28, 5, 5, 1, 2, false});
  cases.push_back({2, 3, 4, 31, 32, 5, 5, 1, 0, true});
  for (const auto& c : cases) {
    CAPTURE(describe(c));
    const auto in = make_inputs(c, gen);
    const Tensor fused = ag::conv2d(in.x, in.w, in.b, in.options);
    const Tensor composed = conv2d_composed(in.x, in.w, in.b, in.options);
    CHECK(max_abs_diff(fused, composed) < 1e-12);
    const Tensor upstream = ag::normal(fused.shape(), 0, 1, gen, DType::f64);
    const auto g1 = gradients([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], in.options); },
                              {in.x, in.w, in.b}, upstream);
    const auto g2 = gradients([&](const Inputs& v) { return conv2d_composed(v[0], v[1], v[2], in.options); },
                              {in.x, in.w, in.b}, upstream);
    for (std::size_t i = 0; i < 3; ++i) CHECK(max_abs_diff(g1[i], g2[i]) < 1e-10);
  }
  SUBCASE("LeNet's C3 with its table at full size") {
    ag::Conv2dOptions c3;
    c3.table = ag::models::lenet5_c3_table();
    const Tensor x = test::param({2, 6, 14, 14}, gen), w = test::param({16, 6, 5, 5}, gen), b = test::param({16}, gen);
    const Tensor upstream = ag::normal({2, 16, 10, 10}, 0, 1, gen, DType::f64);
    const auto g1 = gradients([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], c3); }, {x, w, b}, upstream);
    const auto g2 =
        gradients([&](const Inputs& v) { return conv2d_composed(v[0], v[1], v[2], c3); }, {x, w, b}, upstream);
    for (std::size_t i = 0; i < 3; ++i) CHECK(max_abs_diff(g1[i], g2[i]) < 1e-10);
  }
}

TEST_CASE("conv2d: the gradients equal their closed forms") {
  // dL/dW[o,c,ki,kj] = sum over samples and output positions of the input patch value times the upstream
  // gradient: sum_{n,i,j} G[n,o,i,j] x[n,c, i s+ki-p, j s+kj-p]   (0 for an unconnected pair);
  // dL/db[o] = sum_{n,i,j} G[n,o,i,j];
  // dL/dx[n,c,y,x] = sum over o connected to c and the (i,j,ki,kj) with i s+ki-p = y, j s+kj-p = x of
  //                  W[o,c,ki,kj] G[n,o,i,j].
  ag::Generator gen(13);
  for (const auto& c : sweep()) {
    CAPTURE(describe(c));
    const auto in = make_inputs(c, gen);
    const Tensor y = ag::conv2d(in.x, in.w, in.b, in.options);
    const Tensor g = ag::normal(y.shape(), 0, 1, gen, DType::f64);
    const auto grads =
        gradients([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], in.options); }, {in.x, in.w, in.b}, g);
    const std::int64_t oh = y.size(2), ow = y.size(3), s = c.stride, p = c.padding;
    const auto connected = [&](std::int64_t o, std::int64_t ch) {
      return !in.options.table || in.options.table->connected(o, ch);
    };
    Tensor gw = ag::zeros(in.w.shape(), DType::f64), gb = ag::zeros(in.b.shape(), DType::f64);
    Tensor gx = ag::zeros(in.x.shape(), DType::f64);
    for (std::int64_t n = 0; n < c.batch; ++n)
      for (std::int64_t o = 0; o < c.outputs; ++o)
        for (std::int64_t i = 0; i < oh; ++i)
          for (std::int64_t j = 0; j < ow; ++j) {
            const double up = g.at({n, o, i, j});
            gb.set({o}, gb.at({o}) + up);
            for (std::int64_t ch = 0; ch < c.channels; ++ch) {
              if (!connected(o, ch)) continue;
              for (std::int64_t ki = 0; ki < c.kh; ++ki)
                for (std::int64_t kj = 0; kj < c.kw; ++kj) {
                  const std::int64_t yy = i * s + ki - p, xx = j * s + kj - p;
                  gw.set({o, ch, ki, kj}, gw.at({o, ch, ki, kj}) + up * padded_at(in.x, n, ch, yy, xx));
                  if (yy >= 0 && yy < c.height && xx >= 0 && xx < c.width)
                    gx.set({n, ch, yy, xx}, gx.at({n, ch, yy, xx}) + up * in.w.at({o, ch, ki, kj}));
                }
            }
          }
    CHECK(max_abs_diff(grads[0], gx) < 1e-12);
    CHECK(max_abs_diff(grads[1], gw) < 1e-12);
    CHECK(max_abs_diff(grads[2], gb) < 1e-12);
  }
}

TEST_CASE("conv2d: unconnected weights are not parameters") {
  ag::Generator gen(14);
  ag::Conv2dOptions c3;
  c3.table = ag::models::lenet5_c3_table();
  CHECK(c3.table->count() == 60);
  CHECK(c3.table->count() * 25 + 16 == 1516);  // the paper's parameter count for C3
  CHECK(c3.table->connected(4, 0));
  CHECK_FALSE(c3.table->connected(4, 1));
  CHECK(c3.table->connected(14, 5));
  CHECK_FALSE(c3.table->connected(14, 4));
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor x = ag::uniform({3, 6, 14, 14}, -1, 1, gen, dtype);
    Tensor w = ag::uniform({16, 6, 5, 5}, -1, 1, gen, dtype);
    const Tensor b = ag::uniform({16}, -1, 1, gen, dtype);
    const Tensor before = ag::conv2d(x, w, b, c3);
    // Changing every unconnected weight (to large values) leaves the output bitwise unchanged.
    Tensor w_changed = w.clone();
    for (std::int64_t o = 0; o < 16; ++o)
      for (std::int64_t c = 0; c < 6; ++c)
        if (!c3.table->connected(o, c))
          for (std::int64_t k = 0; k < 25; ++k) w_changed.set({o, c, k / 5, k % 5}, 1e6 + static_cast<double>(k));
    CHECK(ag::conv2d(x, w_changed, b, c3).to_vector() == before.to_vector());
    // Their gradient is exactly 0; every connected weight gets a nonzero one here.
    w.requires_grad_();
    ag::conv2d(x, w, b, c3).backward(ag::ones_like(before));
    const Tensor gw = w.grad();
    for (std::int64_t o = 0; o < 16; ++o)
      for (std::int64_t c = 0; c < 6; ++c)
        for (std::int64_t k = 0; k < 25; ++k) {
          const double v = gw.at({o, c, k / 5, k % 5});
          if (c3.table->connected(o, c))
            CHECK(v != 0.0);
          else
            CHECK(v == 0.0);
        }
  }
}

TEST_CASE("conv2d: float32 agrees with float64 at LeNet-5's sizes, and backward is deterministic") {
  ag::Generator gen(15);
  struct Layer {
    const char* name;
    Shape x, w;
    bool table;
  };
  const std::vector<Layer> layers = {{"C1", {64, 1, 32, 32}, {6, 1, 5, 5}, false},
                                     {"C3", {64, 6, 14, 14}, {16, 6, 5, 5}, true},
                                     {"C3 of the modern variant", {64, 6, 14, 14}, {16, 6, 5, 5}, false},
                                     {"C5", {64, 16, 5, 5}, {120, 16, 5, 5}, false}};
  for (const auto& layer : layers) {
    CAPTURE(layer.name);
    ag::Conv2dOptions o;
    if (layer.table) o.table = ag::models::lenet5_c3_table();
    const Tensor x = test::param(layer.x, gen), w = test::param(layer.w, gen, -0.2, 0.2);
    const Tensor b = test::param({layer.w[0]}, gen);
    const Tensor y64 = ag::conv2d(x, w, b, o);
    const Tensor up = ag::normal(y64.shape(), 0, 1, gen, DType::f64);
    const auto g64 = gradients([&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], o); }, {x, w, b}, up);
    Inputs in32{to_f32(x), to_f32(w), to_f32(b)};
    for (auto& t : in32) t.requires_grad_();
    const auto f32 = [&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], o); };
    const Tensor y32 = f32(in32);
    CHECK(y32.dtype() == DType::f32);
    CHECK(max_rel_diff(y32, y64) < 1e-5);
    const auto g32 = gradients(f32, in32, to_f32(up));
    for (std::size_t i = 0; i < 3; ++i) CHECK(max_rel_diff(g32[i], g64[i]) < 1e-5);
    // Two backward passes give the same bits.
    const auto again = gradients(f32, in32, to_f32(up));
    for (std::size_t i = 0; i < 3; ++i) CHECK(again[i].to_vector() == g32[i].to_vector());
  }
}

TEST_CASE("conv2d: a sample's result is the same bits alone or in a batch") {
  // C3's layout computes each sample on its own whatever the batch. C5's (patch-major) has two kernels, by the
  // number of samples in the call (kRowsForRowLanes = one vector of them: 16 with AVX-512, 8 with AVX2, 4
  // with SSE2): dot products of W's rows below, vectorised over the samples from there up. Each gives a sample
  // the same bits in any batch it handles, so the batches compared lie on one side of that count: 1, 3 and
  // one vector less one sample; 20 and 37.
  const std::int64_t below = std::max<std::int64_t>(3, ag::kernels::kRowsForRowLanes<float> - 1);
  ag::Generator gen(16);
  for (bool c5 : {false, true}) {
    CAPTURE(c5);
    const Shape xs = c5 ? Shape{37, 16, 5, 5} : Shape{37, 6, 14, 14};
    ag::Conv2dOptions o;
    if (!c5) o.table = ag::models::lenet5_c3_table();
    const Tensor x = ag::uniform(xs, -1, 1, gen), w = ag::uniform({c5 ? 120 : 16, xs[1], 5, 5}, -1, 1, gen);
    const std::int64_t per_in = x.numel() / xs[0];
    const auto xv = x.to_vector();
    // The first `count` samples as a batch of their own: their outputs, sample by sample.
    const auto outputs_of_first = [&](std::int64_t count) {
      const Tensor xs_first = ag::from_vector(std::vector<double>(xv.begin(), xv.begin() + count * per_in),
                                              {count, xs[1], xs[2], xs[3]});
      return ag::conv2d(xs_first, w, Tensor(), o).to_vector();
    };
    const auto in_37 = outputs_of_first(37), in_20 = outputs_of_first(20), in_below = outputs_of_first(below);
    const auto alone = outputs_of_first(1), in_3 = outputs_of_first(3);
    const auto per_out = static_cast<std::ptrdiff_t>(alone.size());
    const auto sample = [per_out](const std::vector<double>& all, std::int64_t n) {
      return std::vector<double>(all.begin() + n * per_out, all.begin() + (n + 1) * per_out);
    };
    CHECK(sample(in_below, 0) == alone);
    CHECK(sample(in_below, 2) == sample(in_3, 2));
    CHECK(sample(in_37, 19) == sample(in_20, 19));
    CHECK(sample(in_37, 0) == sample(in_20, 0));
    if (!c5) CHECK(sample(in_37, 0) == alone);
  }
}

TEST_CASE("conv2d with a fused activation: the same bits as conv2d then the activation op, and gradcheck") {
  // The epilogue applies the activation op's own element rule to each output and, in backward, its gradient
  // rule from the output before the convolution's rule: so values and gradients must match bit for bit.
  // Every layout: shifted (stride 1), im2col (stride 2), patch-major (outputs of under 16 positions), and
  // the shifted layout vectorised along the rows.
  ag::Generator gen(29);
  const std::vector<ConvCase> layouts = {{3, 2, 6, 9, 9, 3, 3, 1, 1, false},
                                         {2, 3, 4, 9, 8, 3, 2, 2, 0, true},
                                         {4, 5, 7, 4, 4, 3, 3, 1, 0, false},
                                         {2, 1, 6, 28, 28, 5, 5, 1, 2, false},   // along the rows (C1)
                                         {17, 2, 3, 5, 5, 5, 5, 1, 0, false}};  // C5-like, x as its columns
  for (const ag::Activation activation :
       {ag::Activation::relu, ag::Activation::tanh, ag::Activation::scaled_tanh, ag::Activation::sigmoid})
    for (const DType dtype : {DType::f32, DType::f64})
      for (const auto& c : layouts) {
        CAPTURE(ag::activation_name(activation));
        CAPTURE(ag::dtype_name(dtype));
        CAPTURE(describe(c));
        const auto in = make_inputs(c, gen);
        const auto leaf = [dtype](const Tensor& t) { return ag::to_dtype(t, dtype).detach().requires_grad_(); };
        const Inputs inputs{leaf(in.x), leaf(in.w), leaf(in.b)};
        ag::Conv2dOptions fused = in.options;
        fused.activation = activation;
        const auto one_op = [&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], fused); };
        const auto two_ops = [&](const Inputs& v) {
          return ag::activate(ag::conv2d(v[0], v[1], v[2], in.options), activation);
        };
        check_fused_matches(one_op, two_ops, inputs, gen);
      }
}

TEST_CASE("conv2d: per-axis strides and paddings, and dilation, against the composed convolution") {
  ag::Generator gen(23);
  struct Geometry {
    ag::Size2 stride, padding, dilation;
  };
  for (const Geometry& geo : {Geometry{{2, 1}, {1, 0}, 1}, Geometry{1, {0, 2}, 1}, Geometry{1, 1, 2},
                              Geometry{{1, 2}, {2, 1}, {2, 1}}}) {
    CAPTURE(geo.stride.str());
    CAPTURE(geo.padding.str());
    CAPTURE(geo.dilation.str());
    ag::Conv2dOptions options;
    options.stride = geo.stride;
    options.padding = geo.padding;
    options.dilation = geo.dilation;
    const Tensor x = test::param({2, 2, 7, 6}, gen), w = test::param({3, 2, 3, 2}, gen), b = test::param({3}, gen);
    const Tensor y = ag::conv2d(x, w, b, options);
    CHECK(max_abs_diff(y, conv2d_composed(x, w, b, options)) < 1e-13);
    const auto f = [&](const Inputs& v) { return ag::conv2d(v[0], v[1], v[2], options); };
    CHECK(ag::gradcheck(f, {x, w, b}));
    CHECK(ag::gradgradcheck(f, {x, w, b}));
  }
  // Output sizes: (H + 2p - d (k - 1) - 1) / s + 1 along each axis.
  ag::Conv2dOptions options;
  options.stride = {2, 1};
  options.padding = {0, 1};
  options.dilation = {1, 3};
  CHECK(ag::conv2d(ag::zeros({1, 1, 9, 9}), ag::zeros({1, 1, 3, 3}), Tensor(), options).shape() ==
        Shape{1, 1, 4, 5});
  ag::Conv2dOptions dilation0;
  dilation0.dilation = {1, 0};
  CHECK_THROWS_WITH_AS(ag::conv2d(ag::zeros({1, 1, 8, 8}), ag::zeros({2, 1, 3, 3}), Tensor(), dilation0),
                       "conv2d: dilation must be at least 1, got 1x0: input [1,1,8,8], weight [2,1,3,3]", ag::Error);
  ag::Conv2dOptions wide;
  wide.dilation = 4;
  CHECK_THROWS_WITH_AS(ag::conv2d(ag::zeros({1, 1, 8, 8}), ag::zeros({2, 1, 3, 3}), Tensor(), wide),
                       "conv2d: kernel 3x3 (spanning 9x9 at dilation 4) is larger than the padded input 8x8 "
                       "(padding 0): input [1,1,8,8], weight [2,1,3,3]",
                       ag::Error);
}
