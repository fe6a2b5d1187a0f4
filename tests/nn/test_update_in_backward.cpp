// Optimizer::update_in_backward: parameters updated during backward, by post-accumulate-grad hooks, as soon as
// their gradient is complete, give the same bits as updating every parameter in step().
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <support/thread_count.h>
#include <models/lenet5.h>
#include <nn/input_gradient_penalty.h>
#include <nn/layers/linear.h>
#include <nn/loss.h>
#include <nn/optim/adam.h>
#include <nn/optim/hessian_estimate.h>
#include <nn/optim/sdlm.h>
#include <nn/optim/sgd.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

using ag::Tensor;

namespace {

/// Every parameter's and optimizer state tensor's values, in order.
std::vector<std::vector<double>> values_of(const std::vector<ag::nn::Parameter>& parameters,
                                           const ag::nn::Optimizer& optimizer) {
  std::vector<std::vector<double>> out;
  for (const auto& p : parameters) out.push_back(p.value.to_vector());
  for (const auto& [name, state] : optimizer.state()) out.push_back(state.to_vector());
  return out;
}

enum class Kind { adam, sgd, sdlm };

struct Trained {
  std::vector<std::vector<double>> values;
  std::vector<std::string> updated_in_backward;  // parameters left without a .grad by the last backward
  std::int64_t steps = 0;
};

/// Returns the loss of `model` on `x` with the labels (n * 7 + step) % 10.
Tensor loss_on(ag::models::Variant variant, ag::nn::Module& model, const Tensor& x, int step) {
  std::vector<std::int64_t> classes;
  for (std::int64_t n = 0; n < x.shape()[0]; ++n) classes.push_back((n * 7 + step) % 10);
  const Tensor labels = ag::from_indices(classes, {x.shape()[0]});
  const bool paper = variant == ag::models::Variant::lecun1998;
  return ag::nn::compute_loss(paper ? ag::nn::LossKind::map : ag::nn::LossKind::cross_entropy, model.forward(x),
                              labels, 1.0);
}

/// Trains a fresh model of `variant` for 3 steps at `batch` with Adam, SGD (Nesterov) or SDLM (its curvature
/// estimated on 2 samples, after update_in_backward was set), updating in backward or not; with `penalty` > 0 on
/// the loss plus that weight times the input-gradient penalty (a second-order pass).
Trained train(ag::models::Variant variant, std::int64_t batch, Kind kind, bool in_backward, double penalty = 0) {
  ag::Generator init(5);
  auto model = ag::models::make_model(variant, init);
  std::unique_ptr<ag::nn::Optimizer> optimizer;
  if (kind == Kind::adam)
    optimizer = std::make_unique<ag::nn::Adam>(model->parameters(), ag::nn::AdamOptions{0.01, 0.9, 0.999, 1e-8, 0.001});
  else if (kind == Kind::sgd)
    optimizer = std::make_unique<ag::nn::Sgd>(model->parameters(), ag::nn::SgdOptions{0.05, 0.9, true, 0.001});
  else
    optimizer = std::make_unique<ag::nn::Sdlm>(model->parameters(), ag::nn::SdlmOptions{0.001, 0.02, 0.001});
  optimizer->update_in_backward(in_backward);
  const std::int64_t side = ag::models::input_side(variant);
  ag::Generator data(6);
  if (auto* sdlm = dynamic_cast<ag::nn::Sdlm*>(optimizer.get())) {
    const auto curvature_loss = [&](std::int64_t s) {
      return loss_on(variant, *model, ag::uniform({1, 1, side, side}, -0.1, 1.175, data), static_cast<int>(s));
    };
    sdlm->set_hessian(ag::nn::mean_curvature(model->parameters(), 2, curvature_loss));
  }
  Trained result;
  for (int step = 0; step < 3; ++step) {
    Tensor x = ag::uniform({batch, 1, side, side}, -0.1, 1.175, data);
    if (penalty > 0) x.requires_grad_();
    const Tensor loss = loss_on(variant, *model, x, step);
    const Tensor objective =
        penalty > 0 ? ag::add(loss, ag::mul(ag::nn::input_gradient_penalty(loss, x), penalty)) : loss;
    optimizer->zero_grad();
    objective.backward();
    result.updated_in_backward.clear();
    for (const auto& p : model->parameters())
      if (!p.value.grad().defined()) result.updated_in_backward.push_back(p.name);
    optimizer->step();
  }
  result.values = values_of(model->parameters(), *optimizer);
  result.steps = optimizer->steps();
  return result;
}

}  // namespace

TEST_CASE("updating in backward gives the same bits as step(), both variants, Adam, SGD and SDLM, 1 and 2 threads") {
  for (const auto variant : {ag::models::Variant::lecun1998, ag::models::Variant::modern})
    for (const std::int64_t batch : {1, 3, 5})  // 1 and 3: dL/dW's blocks by outer_rows_block; 5: by panel_product
      for (const Kind kind : {Kind::adam, Kind::sgd, Kind::sdlm})
        for (const int threads : {1, 2}) {
          CAPTURE(ag::models::variant_name(variant));
          CAPTURE(batch);
          CAPTURE(static_cast<int>(kind));
          CAPTURE(threads);
          const ThreadCount t(threads);
          const Trained plain = train(variant, batch, kind, false);
          const Trained in_backward = train(variant, batch, kind, true);
          CHECK(plain.updated_in_backward.empty());
          // Every parameter gets a gradient, so every one is updated in backward.
          std::vector<std::string> all;
          ag::Generator gen(1);
          for (const auto& p : ag::models::make_model(variant, gen)->parameters()) all.push_back(p.name);
          CHECK(in_backward.updated_in_backward == all);
          CHECK(in_backward.steps == 3);
          CHECK(plain.steps == 3);
          CHECK(in_backward.values == plain.values);
        }
}

TEST_CASE("with double back-propagation's penalty (a create_graph pass first), updating in backward is still step()") {
  // The penalty's own pass (dE/dx with create_graph) must update nothing; the objective's pass, which reads the
  // weights again through dE/dx's graph, updates each weight only once nothing left in the pass reads it.
  for (const auto variant : {ag::models::Variant::lecun1998, ag::models::Variant::modern})
    for (const std::int64_t batch : {1, 3}) {
      CAPTURE(ag::models::variant_name(variant));
      CAPTURE(batch);
      const Trained plain = train(variant, batch, Kind::adam, false, 0.5);
      const Trained in_backward = train(variant, batch, Kind::adam, true, 0.5);
      CHECK(in_backward.updated_in_backward.size() == plain.values.size() / 3);  // Adam: parameter, m, v
      CHECK(in_backward.values == plain.values);
      CHECK(in_backward.values != train(variant, batch, Kind::adam, false).values);  // the penalty changed the steps
    }
}

TEST_CASE("a parameter is updated in backward once its whole gradient of the pass is in .grad") {
  const auto make = [] {
    ag::Generator gen(3);
    return std::make_shared<ag::nn::Linear>(4, 3, gen);
  };
  const Tensor x = ag::from_vector({0.5, -1, 2, 0.25, 1, 1, -0.5, 0.75}, {2, 4});
  const auto loss_of = [&](ag::nn::Linear& layer, int uses) {
    Tensor y = layer.forward(x);
    for (int u = 1; u < uses; ++u) y = y + layer.forward(x);  // the same weight again: shared
    return ag::sum(ag::square(y));
  };
  // The reference: every update in step().
  auto reference = make();
  ag::nn::Adam plain_adam(reference->parameters(), ag::nn::AdamOptions{});
  auto layer = make();
  ag::nn::Adam adam(layer->parameters(), ag::nn::AdamOptions{});
  adam.update_in_backward();
  Tensor weight = layer->parameters()[0].value;
  REQUIRE(layer->parameters()[0].name == "weight");

  // One training step of each layer with the loss using the weight `uses` times; returns whether the layer
  // updating in backward kept a .grad, and checks that both layers end with the same weights.
  const auto step_both = [&](int uses) {
    loss_of(*reference, uses).backward();
    plain_adam.step();
    loss_of(*layer, uses).backward();
    const bool kept_grad = weight.grad().defined();
    adam.step();
    CHECK(weight.to_vector() == reference->parameters()[0].value.to_vector());
    CHECK(adam.steps() == plain_adam.steps());
    plain_adam.zero_grad();
    adam.zero_grad();
    return kept_grad;
  };

  SUBCASE("used once: updated in backward, the same bits") { CHECK_FALSE(step_both(1)); }
  SUBCASE("used twice: updated once, from the sum of both uses' gradients") {
    CHECK_FALSE(step_both(2));
    CHECK_FALSE(step_both(3));
  }
  SUBCASE("a .grad already there: updated from it plus the pass's gradient, as step() would") {
    const Tensor earlier = ag::full({3, 4}, 0.125);
    reference->parameters()[0].value.set_grad(earlier.clone());
    weight.set_grad(earlier.clone());
    CHECK_FALSE(step_both(1));
  }
  SUBCASE("in anomaly mode too") {
    const ag::AnomalyModeGuard anomaly;
    CHECK_FALSE(step_both(1));
  }
  SUBCASE("ag::grad returns the gradient and updates nothing") {
    const std::vector<double> before = weight.to_vector();
    const auto grads = ag::grad(loss_of(*layer, 1), {weight});
    CHECK(grads[0].defined());
    CHECK(weight.to_vector() == before);
    CHECK(adam.steps() == 0);
  }
  SUBCASE("switched off, the gradient stays in .grad for step()") {
    adam.update_in_backward(false);
    CHECK_FALSE(adam.updates_in_backward());
    CHECK(step_both(1));
  }
}

TEST_CASE("an optimizer's destructor removes its hooks from the parameters it leaves behind") {
  ag::Generator gen(3);
  auto layer = std::make_shared<ag::nn::Linear>(4, 3, gen);
  const std::vector<double> before = layer->parameters()[0].value.to_vector();
  {
    ag::nn::Sgd sgd(layer->parameters(), ag::nn::SgdOptions{0.1, 0.0, false, 0.0});
    sgd.update_in_backward();
  }
  ag::sum(layer->forward(ag::ones({1, 4}))).backward();
  CHECK(layer->parameters()[0].value.grad().defined());
  CHECK(layer->parameters()[0].value.to_vector() == before);
}

namespace {

/// Each optimizer the watch test runs: those with a check in their own loop (Adam, Sgd: update_and_check)
/// and one with the base class's scan after update() (Sdlm).
std::unique_ptr<ag::nn::Optimizer> watched_optimizer(int kind, std::vector<ag::nn::Parameter> parameters) {
  switch (kind) {
    case 0: return std::make_unique<ag::nn::Adam>(std::move(parameters), ag::nn::AdamOptions{});
    case 1: return std::make_unique<ag::nn::Adam>(std::move(parameters), ag::nn::AdamOptions{0.001, 0.9, 0.999, 1e-8, 0.01});
    case 2: return std::make_unique<ag::nn::Sgd>(std::move(parameters), ag::nn::SgdOptions{0.1, 0.0, false, 0.0});
    case 3: return std::make_unique<ag::nn::Sgd>(std::move(parameters), ag::nn::SgdOptions{0.1, 0.9, true, 0.01});
    default: return std::make_unique<ag::nn::Sdlm>(std::move(parameters), ag::nn::SdlmOptions{});
  }
}

}  // namespace

TEST_CASE("an optimizer watching for NaN and Inf reports an update that wrote one, in backward and in step()") {
  // loss = sum(c * w), so dL/dw = c: an Inf in c at one element sends exactly that weight to NaN (Adam:
  // Inf / Inf) or -Inf (the others), at a position in the vector body or in the tail of the 60 weights.
  for (int kind = 0; kind < 5; ++kind) {
    for (const bool in_backward : {false, true}) {
      for (const std::int64_t bad : {0, 17, 59}) {
        CAPTURE(kind);
        CAPTURE(in_backward);
        CAPTURE(bad);
        Tensor w = ag::full({3, 20}, 0.5, ag::DType::f32);
        w.requires_grad_();
        const auto optimizer = watched_optimizer(kind, {ag::nn::Parameter{"w", w}});
        optimizer->update_in_backward(in_backward);
        optimizer->watch_non_finite();
        const auto step_on = [&](std::int64_t bad_element) {
          std::vector<double> c(60, 0.25);
          if (bad_element >= 0) c[static_cast<std::size_t>(bad_element)] = std::numeric_limits<double>::infinity();
          ag::sum(ag::from_vector(c, {3, 20}, ag::DType::f32) * w).backward();
          optimizer->step();
          optimizer->zero_grad();
        };
        step_on(-1);
        CHECK_FALSE(optimizer->non_finite_written());
        step_on(bad);
        CHECK(optimizer->non_finite_written());
        const std::vector<double> values = w.to_vector();
        for (std::int64_t i = 0; i < 60; ++i) CHECK(std::isfinite(values[static_cast<std::size_t>(i)]) == (i != bad));
        optimizer->watch_non_finite();  // watching again starts a clean record
        CHECK_FALSE(optimizer->non_finite_written());
        optimizer->watch_non_finite(false);
        step_on(bad);  // writes a non-finite value again, but nothing is watching
        CHECK_FALSE(optimizer->non_finite_written());
      }
    }
  }
}
