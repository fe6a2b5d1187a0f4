// nn: modules, parameter naming and counting, initialisers, optimizers, schedules, losses.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include <autograd/autograd.h>
#include <models/connection_table.h>
#include <nn/init.h>
#include <nn/layers/activation.h>
#include <nn/layers/conv2d.h>
#include <nn/layers/linear.h>
#include <nn/layers/max_pool.h>
#include <nn/loss.h>
#include <nn/module.h>
#include <nn/optim/adam.h>
#include <nn/optim/sgd.h>
#include <nn/schedule.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#if defined(__SSE__) || defined(__x86_64__)
#include <immintrin.h>
#endif

using ag::Tensor;

TEST_CASE("parameters carry hierarchical names and trainable counts") {
  ag::Generator gen(1);
  auto net = std::make_shared<ag::nn::Sequential>();
  net->add("fc", std::make_shared<ag::nn::Linear>(4, 3, gen)).add("act", std::make_shared<ag::nn::Tanh>());
  const auto params = net->parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].name == "fc.weight");
  CHECK(params[1].name == "fc.bias");
  CHECK(params[0].value.shape() == ag::Shape{3, 4});
  CHECK(net->trainable_count() == 15);
  CHECK(params[0].value.requires_grad());
}

TEST_CASE("a connection table's missing weights are zero, not counted, and get no gradient") {
  ag::Generator gen(2);
  ag::Conv2dOptions options;
  options.table = ag::models::lenet5_c3_table();
  ag::nn::Conv2d c3(6, 16, 5, gen, options);
  CHECK(c3.trainable_count() == 1516);
  // Map 0 reads maps {0,1,2}: its weights on map 3 are zero.
  for (std::int64_t i = 0; i < 5; ++i) CHECK(c3.weight.at({0, 3, i, i}) == 0.0);
  CHECK(c3.weight.at({0, 0, 2, 2}) != 0.0);
  Tensor x = ag::uniform({2, 6, 14, 14}, -1, 1, gen);
  ag::sum(c3(x)).backward();
  for (std::int64_t i = 0; i < 5; ++i) CHECK(c3.weight.grad().at({0, 3, i, i}) == 0.0);
}

TEST_CASE("the paper's initialisation draws within +-2.4 / fan-in, per output map") {
  ag::Generator gen(3);
  ag::Conv2dOptions options;
  options.table = ag::models::lenet5_c3_table();
  ag::nn::Conv2d c3(6, 16, 5, gen, options);
  double max_map0 = 0, max_map15 = 0;  // map 0 has fan-in 75, map 15 has 150
  for (std::int64_t c = 0; c < 6; ++c)
    for (std::int64_t i = 0; i < 5; ++i)
      for (std::int64_t j = 0; j < 5; ++j) {
        max_map0 = std::max(max_map0, std::abs(c3.weight.at({0, c, i, j})));
        max_map15 = std::max(max_map15, std::abs(c3.weight.at({15, c, i, j})));
      }
  CHECK(max_map0 <= 2.4 / 75);
  CHECK(max_map0 > 0.8 * 2.4 / 75);
  CHECK(max_map15 <= 2.4 / 150);
  CHECK(max_map15 > 0.8 * 2.4 / 150);
}

TEST_CASE("initialisation schemes are named as parse_init reads them") {
  for (const auto scheme : {ag::nn::Init::lecun1998, ag::nn::Init::lecun_sqrt, ag::nn::Init::xavier, ag::nn::Init::he})
    CHECK(ag::nn::parse_init(ag::nn::init_name(scheme)) == scheme);
  CHECK_THROWS_WITH_AS(ag::nn::parse_init("kaiming"),
                       "init: unknown scheme \"kaiming\"; expected lecun1998, lecun_sqrt, xavier or he", ag::Error);
  // lecun_sqrt: weights within +-1/sqrt(F), reaching near it; biases +-2.4/F, as the paper's.
  ag::Generator gen(4);
  ag::nn::Linear f6(120, 84, gen, ag::nn::Init::lecun_sqrt);
  double max_weight = 0, max_bias = 0;
  for (const double w : f6.weight.to_vector()) max_weight = std::max(max_weight, std::abs(w));
  for (const double b : f6.bias.to_vector()) max_bias = std::max(max_bias, std::abs(b));
  CHECK(max_weight <= 1 / std::sqrt(120.0));
  CHECK(max_weight > 0.95 / std::sqrt(120.0));
  CHECK(max_bias <= 2.4 / 120);
  CHECK(max_bias > 0.8 * 2.4 / 120);
}

TEST_CASE("SGD with momentum, Nesterov and weight decay follows its formula") {
  Tensor w = ag::from_vector({1.0, -2.0}, {2}, ag::DType::f64);
  ag::nn::Parameter p{"w", w, 2};
  w.requires_grad_();
  ag::nn::Sgd sgd({p}, {0.1, 0.9, false, 0.01});
  w.set_grad(ag::from_vector({0.5, 0.5}, {2}, ag::DType::f64));
  sgd.step();  // g' = g + 0.01 w; v = g'; w -= 0.1 v
  CHECK(w.at({0}) == doctest::Approx(1.0 - 0.1 * (0.5 + 0.01)));
  const double v0 = 0.5 + 0.01 * 1.0;
  const double w1 = 1.0 - 0.1 * v0;
  sgd.step();  // v = 0.9 v + g'
  const double v1 = 0.9 * v0 + 0.5 + 0.01 * w1;
  CHECK(w.at({0}) == doctest::Approx(w1 - 0.1 * v1));
  CHECK(sgd.steps() == 2);
  CHECK(sgd.state()[0].first == "w.velocity");
}

TEST_CASE("Adam's first step moves each weight by about lr against the gradient's sign") {
  Tensor w = ag::from_vector({1.0, -2.0}, {2}, ag::DType::f64);
  w.requires_grad_();
  ag::nn::Adam adam({{"w", w, 2}}, {0.01, 0.9, 0.999, 1e-8, 0.0});
  w.set_grad(ag::from_vector({3.0, -0.001}, {2}, ag::DType::f64));
  adam.step();
  CHECK(w.at({0}) == doctest::Approx(1.0 - 0.01).epsilon(1e-6));
  CHECK(w.at({1}) == doctest::Approx(-2.0 + 0.01).epsilon(1e-4));
}

TEST_CASE("optimizer moments of a parameter whose gradient stays 0 decay to exactly 0, never subnormal") {
  // After one step with a gradient, m (Adam, x0.9 a step) and the velocity (SGD, x0.9) decay; unfloored they
  // pass through float's subnormals (below 1.2e-38) after about 800 steps, where x86 arithmetic is slow.
  Tensor wa = ag::from_vector({0.5f, -0.25f}, {2});
  Tensor ws = ag::from_vector({0.5f, -0.25f}, {2});
  ag::nn::Adam adam({{"wa", wa, 2}}, {0.001, 0.9, 0.999, 1e-8, 0.0});
  ag::nn::Sgd sgd({{"ws", ws, 2}}, {0.001, 0.9, false, 0.0});
  bool saw_subnormal = false;
  for (int step = 0; step < 1500; ++step) {
    const float g = step == 0 ? 1.0f : 0.0f;
    wa.set_grad(ag::from_vector({g, -g}, {2}));
    ws.set_grad(ag::from_vector({g, -g}, {2}));
    adam.step();
    sgd.step();
    for (const auto& states : {adam.state(), sgd.state()})
      for (const auto& [name, state] : states)
        for (std::int64_t i = 0; i < 2; ++i) {
          const double value = state.at({i});  // a float, widened: test its magnitude, not its class
          saw_subnormal |= value != 0 && std::abs(value) < std::numeric_limits<float>::min();
        }
  }
  CHECK_FALSE(saw_subnormal);
  CHECK(adam.state()[0].second.at({0}) == 0.0);   // m: 0.1 x 0.9^1500 would be about 1e-70
  CHECK(adam.state()[1].second.at({0}) > 0.0);    // v: 0.001 x 0.999^1500, about 2e-4, untouched
  CHECK(sgd.state()[0].second.at({1}) == 0.0);
  // Before reaching the floor, the moments follow the formula: Adam's m after 600 steps is 0.1 x 0.9^599.
  Tensor w = ag::from_vector({0.5}, {1}, ag::DType::f64);
  ag::nn::Adam exact({{"w", w, 1}}, {0.001, 0.9, 0.999, 1e-8, 0.0});
  for (int step = 0; step < 600; ++step) {
    w.set_grad(ag::from_vector({step == 0 ? 1.0 : 0.0}, {1}, ag::DType::f64));
    exact.step();
  }
  CHECK(exact.state()[0].second.at({0}) == doctest::Approx(0.1 * std::pow(0.9, 599)).epsilon(1e-9));
}

TEST_CASE("Adam with gradients whose squares are subnormal: the update as the formula, the FPU mode restored") {
  // A gradient of 1e-20 squares to 1e-40, a float subnormal: the update runs with subnormals flushed
  // (ag::FlushSubnormals), where x86 would otherwise take its slow path. v stays 0 (it would be floored to 0
  // anyway), m is (1 - b1) g, and the first step moves w by lr (1 - b1) g / (1 - b1) / eps = lr g / eps.
  Tensor w = ag::from_vector({1e-9f, -1e-9f, 0.5f}, {3});
  ag::nn::Adam adam({{"w", w, 3}}, {0.001, 0.9, 0.999, 1e-8, 0.0});
  w.set_grad(ag::from_vector({1e-20f, -1e-20f, 0.0f}, {3}));
#if defined(__SSE__) || defined(__x86_64__)
  const unsigned mode = _mm_getcsr();
#endif
  adam.step();
#if defined(__SSE__) || defined(__x86_64__)
  constexpr unsigned kStatusFlags = 0x3f;  // sticky exception flags, set by any arithmetic since
  CHECK((_mm_getcsr() & ~kStatusFlags) == (mode & ~kStatusFlags));  // the caller's mode is left as it was
#endif
  CHECK(w.at({0}) == doctest::Approx(1e-9 - 0.001 * 1e-20 / 1e-8).epsilon(1e-5));
  CHECK(w.at({1}) == doctest::Approx(-1e-9 + 0.001 * 1e-20 / 1e-8).epsilon(1e-5));
  CHECK(w.at({2}) == 0.5);
  CHECK(adam.state()[0].second.at({0}) == doctest::Approx(1e-21).epsilon(1e-5));  // m
  CHECK(adam.state()[1].second.at({0}) == 0.0);                                    // v
  // Subnormal arithmetic outside the update is untouched: half the smallest normal float is not 0.
  volatile float smallest = std::numeric_limits<float>::min();
  CHECK(smallest * 0.5f != 0.0f);
}

TEST_CASE("an optimizer step rejects an int64 parameter by name, before any update") {
  Tensor w = ag::zeros({2, 3});
  Tensor counts = ag::zeros({4}, ag::DType::i64);
  ag::nn::Adam adam({{"c1.weight", w, 6}, {"counts", counts, 4}}, {});
  w.set_grad(ag::ones({2, 3}));
  counts.set_grad(ag::ones({4}, ag::DType::i64));  // possible by hand, never from backward
  CHECK_THROWS_WITH_AS(adam.step(), "optimizer: parameter 'counts' [4] is int64; only float32 and float64 parameters "
                                    "can be optimised", ag::Error);
  CHECK(w.at({0, 0}) == 0.0);  // nothing was updated
}

TEST_CASE("nn::Sequential runs its layers as they are, each timed under its name; a layer built with its activation is one op") {
  ag::Generator gen(31);
  auto model = std::make_shared<ag::nn::Sequential>();
  model->add("c1", std::make_shared<ag::nn::Conv2d>(1, 4, 5, gen, ag::Conv2dOptions{.activation = ag::Activation::relu}));
  model->add("s2", std::make_shared<ag::nn::Conv2d>(4, 6, 3, gen));
  model->add("a2", std::make_shared<ag::nn::ReLU>());
  const Tensor x = ag::normal({2, 1, 12, 12}, 0, 1, gen);
  const Tensor y = model->forward(x);
  CHECK(y.grad_fn()->name == "relu");  // a ReLU layer stays its own op
  CHECK(y.grad_fn()->inputs[0].grad_fn()->name == "conv2d");
  CHECK(y.grad_fn()->inputs[0].grad_fn()->inputs[0].grad_fn()->name == "conv2d+relu");
  auto& c1 = dynamic_cast<ag::nn::Conv2d&>(*model->children()[0].second);
  auto& c2 = dynamic_cast<ag::nn::Conv2d&>(*model->children()[1].second);
  const Tensor composed = ag::relu(ag::conv2d(ag::relu(ag::conv2d(x, c1.weight, c1.bias)), c2.weight, c2.bias));
  CHECK(y.to_vector() == composed.to_vector());
  ag::reset_profile();
  ag::set_profiling(true);
  (void)model->forward(x);
  ag::set_profiling(false);
  std::vector<std::string> names;
  for (const auto& e : ag::profile_entries()) names.push_back(e.name);
  ag::reset_profile();
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"forward a2", "forward c1", "forward s2"});
}

TEST_CASE("MaxPool2d with ReLU after it gives the bits of ReLU before a max-pool (as the modern variant uses it)") {
  // relu then max-pool and max-pool then relu: the same values, and the same gradients for every input and
  // parameter, bit for bit, including windows whose values are all negative, ties, and zeros of both signs.
  for (const ag::DType dtype : {ag::DType::f32, ag::DType::f64}) {
    CAPTURE(ag::dtype_name(dtype));
    SUBCASE("on hand-made windows") {
      auto model = std::make_shared<ag::nn::Sequential>();
      model->add("p", std::make_shared<ag::nn::MaxPool2d>(2, 2, ag::Activation::relu));
      // Windows: mixed signs; all negative; a tie of positive maxima; zeros of both signs; a tie at 0.
      const std::vector<double> values = {1, -2, -3, -4, 5, 5, 0.0, -0.0, 0, 0,  //
                                          -1, 3, -5, -6, 2, 5, -0.0, -1, -2, 0};
      const Tensor x = ag::from_vector(values, {1, 1, 2, 10}, dtype).requires_grad_();
      const Tensor x_ref = ag::from_vector(values, {1, 1, 2, 10}, dtype).requires_grad_();
      const Tensor y = model->forward(x);
      CHECK(y.grad_fn()->name == "max_pool2d+relu");  // one op: the pool with ReLU fused after it
      const Tensor y_ref = ag::max_pool2d(ag::relu(x_ref), 2);
      CHECK(y.to_vector() == y_ref.to_vector());
      const Tensor up = ag::from_vector({0.5, -1.5, 2, 3, -4}, y.shape(), dtype);
      ag::sum(ag::mul(y, up)).backward();
      ag::sum(ag::mul(y_ref, up)).backward();
      CHECK(x.grad().to_vector() == x_ref.grad().to_vector());
      CHECK(x.grad().to_vector() == std::vector<double>{0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0});
    }
    SUBCASE("between two convolutions, with negative biases") {
      ag::Generator gen(37);
      auto model = std::make_shared<ag::nn::Sequential>();
      const auto init = ag::nn::Init::lecun1998;
      model->add("c1", std::make_shared<ag::nn::Conv2d>(1, 4, 5, gen, ag::Conv2dOptions{}, init, dtype));
      model->add("p1", std::make_shared<ag::nn::MaxPool2d>(2, 2, ag::Activation::relu));
      model->add("c2", std::make_shared<ag::nn::Conv2d>(4, 3, 3, gen, ag::Conv2dOptions{}, init, dtype));
      auto& c1 = dynamic_cast<ag::nn::Conv2d&>(*model->children()[0].second);
      auto& c2 = dynamic_cast<ag::nn::Conv2d&>(*model->children()[2].second);
      const double biases[] = {-0.5, -1, 0.2, -2};  // that leave many windows all <= 0
      for (int o = 0; o < 4; ++o) {
        const ag::NoGradGuard no_grad;  // writing into a parameter
        if (dtype == ag::DType::f32) c1.bias.mutable_data<float>()[o] = static_cast<float>(biases[o]);
        else c1.bias.mutable_data<double>()[o] = biases[o];
      }
      const Tensor x = ag::normal({3, 1, 16, 16}, 0, 1, gen, dtype);
      const Tensor y = model->forward(x);
      // The reference, op by op in the layers' order, from copies of the parameters.
      const auto copy = [](const Tensor& t) { return t.detach().clone().requires_grad_(); };
      const Tensor w1 = copy(c1.weight), b1 = copy(c1.bias), w2 = copy(c2.weight), b2 = copy(c2.bias);
      const Tensor y_ref = ag::conv2d(ag::max_pool2d(ag::relu(ag::conv2d(x, w1, b1)), 2), w2, b2);
      CHECK(y.to_vector() == y_ref.to_vector());
      const Tensor up = ag::normal(y.shape(), 0, 1, gen, dtype);
      ag::sum(ag::mul(y, up)).backward();
      ag::sum(ag::mul(y_ref, up)).backward();
      CHECK(c1.weight.grad().to_vector() == w1.grad().to_vector());
      CHECK(c1.bias.grad().to_vector() == b1.grad().to_vector());
      CHECK(c2.weight.grad().to_vector() == w2.grad().to_vector());
      CHECK(c2.bias.grad().to_vector() == b2.grad().to_vector());
      // Some windows were all <= 0: their gradient is gated, so C1's bias gradient is not the plain sum.
      const auto pooled = ag::max_pool2d(ag::conv2d(x, w1, b1), 2).to_vector();
      CHECK(std::count_if(pooled.begin(), pooled.end(), [](double v) { return v <= 0; }) > 10);
    }
  }
}

TEST_CASE("optimizers reject bad settings by name") {
  Tensor w = ag::zeros({1});
  CHECK_THROWS_WITH_AS(ag::nn::Sgd({{"w", w, 1}}, {0.1, 1.5, false, 0.0}), "sgd: momentum must be in [0, 1), got 1.5",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::nn::Sgd({{"w", w, 1}}, {-1, 0.0, false, 0.0}),
                       "optimizer: the learning rate must be finite and > 0, got -1", ag::Error);
}

TEST_CASE("schedules give the paper's table, steps and a cosine") {
  ag::nn::Schedule paper{ag::nn::ScheduleKind::paper, 0.0005};
  const double expected[] = {0.0005, 0.0005, 0.0002, 0.0002, 0.0002, 0.0001, 0.0001, 0.0001, 0.00005, 0.00005,
                             0.00005, 0.00005, 0.00001, 0.00001, 0.00001, 0.00001, 0.00001, 0.00001, 0.00001, 0.00001};
  for (int e = 0; e < 20; ++e) CHECK(paper.lr_at(e) == doctest::Approx(expected[e]));
  ag::nn::Schedule step{ag::nn::ScheduleKind::step, 1.0, 3, 0.5};
  CHECK(step.lr_at(2) == 1.0);
  CHECK(step.lr_at(3) == 0.5);
  CHECK(step.lr_at(6) == 0.25);
  ag::nn::Schedule cosine{ag::nn::ScheduleKind::cosine, 1.0, 1, 0.1, 0.0, 10};
  CHECK(cosine.lr_at(0) == 1.0);
  CHECK(cosine.lr_at(5) == doctest::Approx(0.5));
  CHECK(cosine.lr_at(10) == doctest::Approx(0.0));
  CHECK(cosine.lr_at(2.5) == doctest::Approx(0.5 * (1 + std::cos(std::numbers::pi * 0.25))));  // between epochs
  CHECK(step.lr_at(2.9) == 1.0);  // the paper's and step schedules change at whole epochs only
  CHECK(step.lr_at(3.0) == 0.5);
  // A warm-up of 2 epochs: linear from 0 to the base rate, then the cosine over the 8 epochs left.
  ag::nn::Schedule warm = cosine;
  warm.warmup_epochs = 2;
  CHECK(warm.lr_at(0) == 0.0);
  CHECK(warm.lr_at(0.5) == doctest::Approx(0.25));
  CHECK(warm.lr_at(2) == 1.0);
  CHECK(warm.lr_at(6) == doctest::Approx(0.5));
  CHECK(warm.lr_at(10) == doctest::Approx(0.0));
  ag::nn::Schedule constant_warm{ag::nn::ScheduleKind::constant, 0.2};
  constant_warm.warmup_epochs = 0.5;
  CHECK(constant_warm.lr_at(0.25) == doctest::Approx(0.1));
  CHECK(constant_warm.lr_at(3) == 0.2);
}

TEST_CASE("predict takes the argmin of RBF distances and the argmax of logits") {
  Tensor out = ag::from_vector({3, 1, 2, 0, 5, 4}, {2, 3});
  CHECK(ag::nn::predict(ag::nn::LossKind::map, out).to_vector() == std::vector<double>{1, 0});
  CHECK(ag::nn::predict(ag::nn::LossKind::cross_entropy, out).to_vector() == std::vector<double>{0, 1});
  CHECK_THROWS_WITH_AS(ag::nn::parse_loss("hinge"), "loss: unknown loss \"hinge\"; expected map, mle or cross_entropy",
                       ag::Error);
}

TEST_CASE("MaxPool2d per axis: kernel, stride and padding for height and width apart") {
  CHECK(ag::nn::MaxPool2d({2, 1}, {1, 2}, ag::Activation::none, {1, 0}).describe() ==
        "MaxPool2d(2x1, stride 1x2, padding 1x0)");
  CHECK(ag::nn::MaxPool2d(2, 2, ag::Activation::relu).describe() == "MaxPool2d(2x2, stride 2, then relu)");
  // x [1,1,2,3] = [[1, 5, 2], [4, 3, 6]]: windows of 2 rows x 1 column, stride 1, a row of padding above and below
  // (never the maximum): the rows alone, then their maximum, then the second row.
  const Tensor x = ag::from_vector({1, 5, 2, 4, 3, 6}, {1, 1, 2, 3});
  ag::nn::MaxPool2d pool({2, 1}, 1, ag::Activation::none, {1, 0});
  const Tensor y = pool.forward(x);
  CHECK(y.shape() == ag::Shape{1, 1, 3, 3});
  CHECK(y.to_vector() == std::vector<double>{1, 5, 2, 4, 5, 6, 4, 3, 6});
  // A stride of 0 on an axis means that axis's kernel size.
  CHECK(ag::nn::MaxPool2d(ag::Size2{2, 3}).forward(x).to_vector() == std::vector<double>{6});
}
