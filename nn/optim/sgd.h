#pragma once
/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay.
#include "nn/optim/optimizer.h"

namespace ag::nn {

struct SgdOptions {
  double learning_rate = 0.01;
  double momentum = 0.0;      ///< 0 for plain SGD
  bool nesterov = false;      ///< look-ahead form of momentum
  double weight_decay = 0.0;  ///< adds weight_decay * w to every gradient
};

/// g' = g + wd w;  v = momentum v + g';  w -= lr (nesterov ? g' + momentum v : v)
class Sgd : public Optimizer {
 public:
  /// Creates the optimizer; throws naming the option when one is out of range.
  Sgd(std::vector<Parameter> parameters, const SgdOptions& options);
  std::vector<std::pair<std::string, Tensor>> state() const override;

 protected:
  void open_state(std::size_t index) override;
  void update(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) override;
  bool update_and_check(std::size_t index, void* values, const void* grad, std::int64_t begin,
                        std::int64_t end) override;

 private:
  /// update() of elements [begin, end); with kWatch, returns false when a value written is NaN or Inf.
  template <bool kWatch>
  bool update_elements(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end);

  SgdOptions options_;
  std::vector<Tensor> velocity_;
  std::vector<std::byte*> velocity_open_;  // each velocity's values, opened by open_state
};

}  // namespace ag::nn
