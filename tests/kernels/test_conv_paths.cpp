// Every convolution path against the reference convolution (kernels/conv/reference.cpp), forward and
// backward, float and double, on LeNet-5's shapes and others: each path is forced on a plan and its results
// compared with the reference path's. And which path the plan chooses for each of LeNet-5's layers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/conv/plan.h"
#include "kernels/conv/specialised_shapes.h"
#include "kernels/reference.h"

using namespace ag::kernels;

namespace {

/// A case: the shape, a batch size and a name.
struct Case {
  std::string name;
  ConvShape shape;
  std::int64_t batch;
  std::vector<std::uint8_t> table;  // kept alive for shape.table
};

/// Table I's pattern (which of 6 maps each of 16 reads), as in models/connection_table.cpp.
std::vector<std::uint8_t> c3_table() {
  const std::vector<std::vector<int>> reads = {{0, 1, 2},    {1, 2, 3},    {2, 3, 4},    {3, 4, 5},    {4, 5, 0},
                                               {5, 0, 1},    {0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 0},
                                               {4, 5, 0, 1}, {5, 0, 1, 2}, {0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5},
                                               {0, 1, 2, 3, 4, 5}};
  std::vector<std::uint8_t> entries(16 * 6, 0);
  for (std::size_t o = 0; o < reads.size(); ++o)
    for (int c : reads[o]) entries[o * 6 + static_cast<std::size_t>(c)] = 1;
  return entries;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  const auto add = [&](std::string name, ConvShape shape, std::int64_t batch, std::vector<std::uint8_t> table = {}) {
    out.push_back({std::move(name), shape, batch, std::move(table)});
    out.back().shape.table = out.back().table;
  };
  for (const std::int64_t batch : {1, 3, 17}) {
    add("C1", {1, 32, 32, 6, 5, 5, 1, 1, 0, 0, 1, 1, {}}, batch);
    add("modern C1 (padding 2)", {1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, {}}, batch);
    add("C3 with Table I", {6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}}, batch, c3_table());
    add("C3 without a table", {6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}}, batch);
    add("C5", {16, 5, 5, 120, 5, 5, 1, 1, 0, 0, 1, 1, {}}, batch);
  }
  add("C3 with Table I, blocks of samples and a tail", {6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}}, 35, c3_table());
  add("rows of 28, padding 1, a table", {3, 30, 30, 4, 5, 5, 1, 1, 1, 1, 1, 1, {}}, 2, {1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0});
  add("rows of 10, padding 1", {2, 12, 12, 5, 5, 5, 1, 1, 1, 1, 1, 1, {}}, 3);
  add("stride 2, padding 1", {3, 11, 11, 5, 3, 3, 2, 2, 1, 1, 1, 1, {}}, 4);
  add("stride 3, 2x4 kernels", {2, 13, 10, 3, 2, 4, 3, 3, 0, 0, 1, 1, {}}, 2);
  add("1x1 kernels", {4, 6, 7, 9, 1, 1, 1, 1, 0, 0, 1, 1, {}}, 3);
  add("odd maps, a table", {3, 9, 7, 4, 3, 2, 1, 1, 0, 0, 1, 1, {}}, 5, {1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1});
  add("patch-major with padding", {2, 3, 3, 7, 3, 3, 1, 1, 1, 1, 1, 1, {}}, 2);
  return out;
}

/// Every combination of paths that can run `plan`'s shape in element type T.
template <class T>
std::vector<ConvPaths> applicable_paths(const ConvPlan& plan) {
  const ConvGeometry& g = plan.geo;
  std::vector<ConvPaths> out{{ConvLayout::im2col}};
  if (plan.table.empty()) out.push_back({ConvLayout::patch_major});
  if (g.stride() != 1) return out;
  std::vector<ShiftedKernel> forward{ShiftedKernel::grid, ShiftedKernel::over_maps}, inputs{ShiftedKernel::grid};
  if (with_row_vectorised_shape<T>(g.out_w, g.kh, g.kw, [](auto, auto, auto) {}))
    forward.push_back(ShiftedKernel::along_rows);
  if (with_row_kernel_shape(g.out_w, g.kw, [](auto, auto) {})) inputs.push_back(ShiftedKernel::over_maps);
  std::vector<ShiftedKernel> weights = forward;
  if (with_row_kernel_shape(g.out_w, g.kw, [](auto, auto) {}) && g.padding() == 0) {
    forward.push_back(ShiftedKernel::over_samples);
    weights.push_back(ShiftedKernel::over_samples);
    inputs.push_back(ShiftedKernel::over_samples);
  }
  for (const auto f : forward)
    for (const auto w : weights)
      for (const auto x : inputs) out.push_back({ConvLayout::shifted, f, w, x});
  return out;
}

std::string describe(const ConvPaths& p) {
  const char* layouts[] = {"reference", "patch_major", "shifted", "im2col"};
  const char* kernels[] = {"grid", "over_maps", "along_rows", "over_samples"};
  std::string s = layouts[static_cast<int>(p.layout)];
  if (p.layout == ConvLayout::shifted)
    s += std::string(" forward ") + kernels[static_cast<int>(p.forward)] + ", weights " +
         kernels[static_cast<int>(p.weights)] + ", inputs " + kernels[static_cast<int>(p.inputs)];
  return s;
}

/// The forward output and the three gradients of one run.
template <class T>
struct Results {
  std::vector<T> y, gx, gw, gb;
};

/// Runs `plan` forward and backward on seeded inputs (unconnected weights 0, as a layer keeps them); dL/dx
/// only when `input_gradient` (else gx stays empty).
template <class T>
Results<T> run(const ConvPlan& plan, std::int64_t batch, Activation activation, bool input_gradient = true) {
  const ConvGeometry& g = plan.geo;
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> uniform(-1, 1);
  const auto random = [&](std::int64_t n) {
    std::vector<T> v(static_cast<std::size_t>(n));
    for (auto& e : v) e = static_cast<T>(uniform(gen));
    return v;
  };
  const std::vector<T> x = random(batch * plan.in_size()), bias = random(plan.outputs);
  std::vector<T> w = random(plan.outputs * g.taps());
  for (std::int64_t o = 0; o < plan.outputs; ++o)
    for (std::int64_t c = 0; c < g.channels; ++c)
      if (!plan.reads(o, c)) std::fill_n(w.begin() + (o * g.channels + c) * g.kh * g.kw, g.kh * g.kw, T(0));
  const std::vector<T> g_out = random(batch * plan.out_size());
  Results<T> r;
  r.y.resize(static_cast<std::size_t>(batch * plan.out_size()));
  if (input_gradient) r.gx.resize(x.size());
  r.gw.resize(w.size());
  r.gb.resize(bias.size());
  conv2d_forward<T>(plan, {batch, x.data(), w.data(), bias.data(), activation, r.y.data()});
  conv2d_backward<T>(plan, {batch, x.data(), w.data(), g_out.data(), r.y.data(), activation,
                            input_gradient ? r.gx.data() : nullptr, r.gw.data(), r.gb.data()});
  return r;
}

/// Checks that a and b agree to the rounding of sums of `terms` products in T, relative to the larger
/// magnitude involved (at least 1).
template <class T>
void check_close(const std::vector<T>& a, const std::vector<T>& b, std::int64_t terms, const char* what) {
  REQUIRE(a.size() == b.size());
  const double eps = std::is_same_v<T, float> ? 1.2e-7 : 2.3e-16;
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / std::max(1.0, std::abs(double(b[i]))));
  CAPTURE(what);
  CHECK(worst <= 4 * eps * static_cast<double>(terms));
}

template <class T>
void check_every_path(const Case& c) {
  const ConvPlan chosen = make_conv_plan(c.shape);
  for (const Activation activation : {Activation::none, Activation::scaled_tanh, Activation::relu}) {
    ConvPlan reference = chosen;
    reference.float_paths = reference.double_paths = {};
    const Results<T> want = run<T>(reference, c.batch, activation);
    const std::int64_t terms = chosen.geo.taps() + c.batch * chosen.geo.positions() + chosen.outputs * 25;
    for (const ConvPaths& paths : applicable_paths<T>(chosen)) {
      CAPTURE(c.name);
      CAPTURE(c.batch);
      CAPTURE(describe(paths));
      CAPTURE(static_cast<int>(activation));
      ConvPlan plan = chosen;
      plan.float_paths = plan.double_paths = paths;
      const Results<T> got = run<T>(plan, c.batch, activation);
      check_close(got.y, want.y, terms, "y");
      check_close(got.gx, want.gx, terms, "dL/dx");
      check_close(got.gw, want.gw, terms, "dL/dW");
      check_close(got.gb, want.gb, terms, "dL/dbias");
      // Unconnected weights get exactly 0 on every path.
      for (std::int64_t o = 0; o < plan.outputs; ++o)
        for (std::int64_t ch = 0; ch < plan.geo.channels; ++ch)
          if (!plan.reads(o, ch))
            for (std::int64_t k = 0; k < plan.geo.kh * plan.geo.kw; ++k)
              CHECK(got.gw[static_cast<std::size_t>((o * plan.geo.channels + ch) * plan.geo.kh * plan.geo.kw + k)] == 0);
    }
  }
}

}  // namespace

TEST_CASE("conv paths: every path agrees with the reference convolution, forward and backward, float and double") {
  for (const Case& c : cases()) {
    check_every_path<float>(c);
    check_every_path<double>(c);
  }
}

TEST_CASE("conv paths: the forward over the samples gives the bits of the forward over the maps") {
  // Both sum over c, ki, kj in order from the bias; over the maps adds the unconnected maps' zero weights,
  // which leave a finite sum as it is. Batches with whole blocks of samples, a block cut by maps, and tails.
  if (!with_row_kernel_shape(10, 5, [](auto, auto) {})) return;
  for (const std::int64_t batch : {16, 19, 40}) {
    ConvShape shape{6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}};
    const std::vector<std::uint8_t> table = c3_table();
    shape.table = table;
    ConvPlan by_maps = make_conv_plan(shape), by_samples = by_maps;
    by_maps.float_paths.forward = ShiftedKernel::over_maps;
    by_samples.float_paths.forward = ShiftedKernel::over_samples;
    CAPTURE(batch);
    CHECK(run<float>(by_samples, batch, Activation::scaled_tanh).y == run<float>(by_maps, batch, Activation::scaled_tanh).y);
  }
}

/// With dL/dx asked for, the chunk's G = dL/dy f'(y) is formed first for every kernel; without (a first layer),
/// the weights' kernel along the rows forms it for up to 8 samples at a time as it reads it. The sums run in
/// the same order, so dL/dW and dL/dbias must agree to the bit. Batches of one chunk, of chunks of one block,
/// and of chunks of several blocks (100: 8 chunks of 12 or 13 samples).
template <class T>
void check_weights_forming_their_gradient() {
  const std::vector<std::uint8_t> table{1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0};
  std::vector<ConvShape> shapes{{1, 32, 32, 6, 5, 5, 1, 1, 0, 0, 1, 1, {}}, {3, 30, 30, 4, 5, 5, 1, 1, 1, 1, 1, 1, {}}};
  shapes[1].table = table;
  for (const ConvShape& shape : shapes) {
    ConvPlan plan = make_conv_plan(shape);
    if (!with_row_vectorised_shape<T>(plan.geo.out_w, plan.geo.kh, plan.geo.kw, [](auto, auto, auto) {})) return;
    plan.float_paths = plan.double_paths = {ConvLayout::shifted, ShiftedKernel::along_rows, ShiftedKernel::along_rows,
                                            ShiftedKernel::grid};
    for (const Activation activation :
         {Activation::scaled_tanh, Activation::tanh, Activation::relu, Activation::sigmoid}) {
      for (const std::int64_t batch : {1, 9, 100}) {
        CAPTURE(plan.geo.channels);
        CAPTURE(static_cast<int>(activation));
        CAPTURE(batch);
        const Results<T> with_inputs = run<T>(plan, batch, activation);
        const Results<T> weights_only = run<T>(plan, batch, activation, false);
        CHECK(weights_only.gw == with_inputs.gw);
        CHECK(weights_only.gb == with_inputs.gb);
        CHECK(std::any_of(weights_only.gw.begin(), weights_only.gw.end(), [](T v) { return v != 0; }));
      }
    }
  }
}

TEST_CASE("conv paths: dL/dW along the rows gives the same bits when it forms G from dL/dy itself") {
  check_weights_forming_their_gradient<float>();
  check_weights_forming_their_gradient<double>();
}

TEST_CASE("conv paths: the plan's choice for LeNet-5's layers (float)") {
  const auto paths_of = [](ConvShape shape, std::vector<std::uint8_t> table = {}) {
    shape.table = table;
    return describe(make_conv_plan(shape).float_paths);
  };
  if (kReferenceKernels) {
    CHECK(paths_of({6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}}, c3_table()) == "reference");
    return;
  }
  CHECK(paths_of({16, 5, 5, 120, 5, 5, 1, 1, 0, 0, 1, 1, {}}) == "patch_major");  // C5
  // C3's row kernels keep a whole output row in registers, which takes AVX-512's 32 (this machine's). With 16
  // (AVX2, SSE2) C3 runs over the maps or on the grid, as the work counts in choose_paths decide.
  if (with_row_kernel_shape(10, 5, [](auto, auto) {})) {
    CHECK(paths_of({6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}}) ==
          "shifted forward over_maps, weights over_maps, inputs over_maps");  // the modern C3: no pair left out
    CHECK(paths_of({6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}}, c3_table()) ==
          "shifted forward over_samples, weights over_samples, inputs over_samples");  // C3 with Table I
  } else {
    CHECK(paths_of({6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}}) ==
          "shifted forward over_maps, weights over_maps, inputs grid");
    CHECK(paths_of({6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, {}}, c3_table()) ==
          "shifted forward grid, weights over_maps, inputs grid");
  }
  CHECK(paths_of({3, 11, 11, 5, 3, 3, 2, 2, 1, 1, 1, 1, {}}) == "im2col");            // stride 2
  // Geometries the fast paths do not serve take the reference: per-axis strides or paddings, dilation.
  CHECK(paths_of({3, 11, 11, 5, 3, 3, 2, 1, 1, 1, 1, 1, {}}) == "reference");
  CHECK(paths_of({3, 11, 11, 5, 3, 3, 1, 1, 1, 0, 1, 1, {}}) == "reference");
  CHECK(paths_of({3, 11, 11, 5, 3, 3, 1, 1, 0, 0, 2, 2, {}}) == "reference");
  // C1 takes the row kernels where they fit the registers (AVX-512, AVX2); the SSE2 build has too few.
  if (with_row_vectorised_shape<float>(28, 5, 5, [](auto, auto, auto) {}))
    CHECK(paths_of({1, 32, 32, 6, 5, 5, 1, 1, 0, 0, 1, 1, {}}) == "shifted forward along_rows, weights along_rows, inputs grid");
}
