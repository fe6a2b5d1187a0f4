// A module's state: buffers beside parameters, listed by name, and conversion to float64 in place.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <models/lenet5.h>
#include <nn/layers/linear.h>
#include <nn/layers/rbf_output.h>
#include <nn/module.h>

#include <algorithm>
#include <cmath>

#include "nn/state_test_support.h"
#include "support/random_inputs.h"

using ag::DType;
using ag::models::Variant;

namespace {

// A layer with one parameter and one buffer of the same name, to see the name refused.
class TwiceNamed : public ag::nn::Module {
 public:
  TwiceNamed() {
    register_parameter("scale", ag::ones({2}));
    register_buffer("scale", ag::zeros({2}));
  }
  ag::Tensor forward(const ag::Tensor& x) override { return x; }
  std::string describe() const override { return "TwiceNamed"; }
};

}  // namespace

TEST_CASE("buffers() lists the RBF centres, which are state but not parameters") {
  auto net = test::model_of(Variant::lecun1998, 1);
  const auto buffers = net->buffers();
  REQUIRE(buffers.size() == 1);
  CHECK(buffers[0].name == "output.centres");
  CHECK(buffers[0].value.shape() == ag::Shape{10, 84});
  CHECK_FALSE(buffers[0].value.requires_grad());
  for (const auto& p : net->parameters()) CHECK(p.name != "output.centres");
  CHECK(net->trainable_count() == 60000);
  // state(): the parameters in their order, then the buffers.
  const auto state = test::names_of(net->state());
  CHECK(state.size() == net->parameters().size() + 1);
  CHECK(state.front() == "c1.weight");
  CHECK(state.back() == "output.centres");
  // The modern variant has no buffer; trainable centres are a parameter instead.
  CHECK(test::model_of(Variant::modern, 1)->buffers().empty());
  ag::nn::RbfOutput trainable(ag::ones({3, 4}), true);
  CHECK(trainable.buffers().empty());
  CHECK(test::names_of(trainable.state()) == std::vector<std::string>{"centres"});
}

TEST_CASE("a module refuses a second parameter or buffer of one name") {
  CHECK_THROWS_WITH_AS(TwiceNamed(), "Module: TwiceNamed already has a parameter or buffer called \"scale\"",
                       ag::Error);
}

TEST_CASE("to(float64) converts every parameter and buffer in place, for both variants") {
  for (const Variant variant : {Variant::lecun1998, Variant::modern}) {
    CAPTURE(ag::models::variant_name(variant));
    auto net = test::model_of(variant, 3);
    const ag::Tensor x = test::input_of(variant);
    const ag::Tensor single = net->forward(x);
    ag::sum(single).backward();  // leaves gradients, which to() must drop
    std::vector<std::vector<double>> before;
    for (const auto& entry : net->state()) before.push_back(entry.value.to_vector());
    const auto layer = std::dynamic_pointer_cast<ag::nn::Linear>(net->children()[6].second);  // f6
    REQUIRE(layer);

    net->to(DType::f64);
    std::size_t i = 0;
    for (const auto& entry : net->state()) {
      CAPTURE(entry.name);
      CHECK(entry.value.dtype() == DType::f64);
      CHECK(entry.value.to_vector() == before[i++]);  // float32 -> float64 is exact
      CHECK(entry.value.is_leaf());
      CHECK_FALSE(entry.value.grad().defined());
    }
    for (const auto& p : net->parameters()) CHECK(p.value.requires_grad());
    CHECK(layer->weight.dtype() == DType::f64);  // the layer's own handle sees the conversion
    const ag::Tensor twice = net->forward(ag::to_dtype(x, DType::f64));
    REQUIRE(twice.dtype() == DType::f64);
    const auto a = single.to_vector(), b = twice.to_vector();
    for (std::size_t k = 0; k < a.size(); ++k) CHECK(std::abs(a[k] - b[k]) <= 1e-4 * (1 + std::abs(b[k])));
    ag::sum(twice).backward();
    CHECK(net->parameters().front().value.grad().dtype() == DType::f64);
    net->to(DType::f32);
    CHECK(net->state().back().value.dtype() == DType::f32);
  }
  auto net = test::model_of(Variant::modern, 3);
  CHECK_THROWS_WITH_AS(net->to(DType::i64), "Module::to: expected float32 or float64, got int64", ag::Error);
}

TEST_CASE("after to(float64), gradcheck passes through the model and a parameter's gradient matches") {
  auto net = test::model_of(Variant::lecun1998, 4);
  net->to(DType::f64);
  ag::Tensor x = test::input_of(Variant::lecun1998, DType::f64);
  x.requires_grad_();
  const auto through_model = [&](const std::vector<ag::Tensor>& in) { return net->forward(in[0]); };
  ag::GradcheckOptions fast;
  fast.fast_mode = true;
  CHECK(ag::gradcheck(through_model, {x}, fast));
  // A parameter's gradient, now float64, against a central difference of the model's output.
  ag::Tensor coeff = net->parameters()[2].value;  // s2.coeff [6]
  REQUIRE(net->parameters()[2].name == "s2.coeff");
  const auto loss = [&] { return ag::sum(net->forward(x.detach())); };
  loss().backward();
  CHECK(coeff.grad().at({0}) == doctest::Approx(test::central_difference(coeff, {0}, loss)).epsilon(1e-6));
}
