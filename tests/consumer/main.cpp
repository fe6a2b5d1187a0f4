// Proves the consumer's own op with gradcheck, checks its error message, trains a two-parameter model through it,
// and saves and loads a LeNet-5. Prints what it finds; returns 1 when any check fails.
#include <autograd/autograd.h>

#include <iostream>
#include <string>

#include "saved_state.h"
#include "softsign.h"

namespace {

/// w -= lr * dL/dw in place, for a float32 leaf with a gradient; then drops the gradient.
void sgd_step(ag::Tensor& w, float lr) {
  const ag::NoGradGuard no_grad;  // a leaf that requires a gradient is written outside grad mode
  float* value = w.mutable_data<float>();
  const float* grad = w.grad().data<float>();
  for (std::int64_t i = 0; i < w.numel(); ++i) value[i] -= lr * grad[i];
  w.zero_grad();
}

}  // namespace

int main() {
  int failures = 0;
  ag::Generator gen(7);

  // 1. The gradient, in float64 against central differences, on both sides of the kink of |x|.
  ag::Tensor x = ag::uniform({4, 3}, -3, 3, gen, ag::DType::f64);
  x.requires_grad_();
  const auto check = ag::gradcheck([](const std::vector<ag::Tensor>& in) { return consumer::softsign(in[0]); }, {x});
  std::cout << "gradcheck softsign: " << check << "\n";
  failures += !check.passed;

  // 2. A bad argument names the op, the dtype and the shape.
  try {
    consumer::softsign(ag::from_indices({1, 2}, {2}));
    std::cout << "softsign on int64: no error\n";
    ++failures;
  } catch (const ag::Error& e) {
    const std::string expected = "softsign: expected a float32 or float64 tensor, got [2] int64";
    std::cout << "softsign on int64: " << e.what() << "\n";
    failures += e.what() != expected;
  }

  // 3. Training in float32: fit softsign(w x + b) to targets made with w = 2, b = -0.5.
  const ag::Tensor inputs = ag::uniform({64}, -2, 2, gen);
  const ag::Tensor targets = consumer::softsign(inputs * 2.0 - 0.5);
  ag::Tensor w = ag::zeros({1}), b = ag::zeros({1});
  w.requires_grad_();
  b.requires_grad_();
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    ag::Tensor loss = ag::mse_loss(consumer::softsign(inputs * w + b), targets);
    loss.backward();
    sgd_step(w, 0.5f);
    sgd_step(b, 0.5f);
    (step == 0 ? first : last) = loss.item();
  }
  std::cout << "training: loss " << first << " -> " << last << ", w = " << w.item() << ", b = " << b.item() << "\n";
  failures += !(last < first / 100);

  // 4. A model's state saved and loaded through the installed nn library.
  failures += consumer::saved_state_failures();

  std::cout << (failures == 0 ? "consumer: all checks passed\n" : "consumer: FAILED\n");
  return failures == 0 ? 0 : 1;
}
