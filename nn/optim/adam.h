#pragma once
/// Adam (Kingma and Ba, 2015) with L2 weight decay added to the gradient.
#include "nn/optim/optimizer.h"

namespace ag::nn {

struct AdamOptions {
  double learning_rate = 0.001;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

/// m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
class Adam : public Optimizer {
 public:
  /// Creates the optimizer; throws naming the option when one is out of range.
  Adam(std::vector<Parameter> parameters, const AdamOptions& options);
  std::vector<std::pair<std::string, Tensor>> state() const override;

 protected:
  void begin_step() override;
  void open_state(std::size_t index) override;
  void update(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) override;
  bool update_and_check(std::size_t index, void* values, const void* grad, std::int64_t begin,
                        std::int64_t end) override;

 private:
  /// update() of elements [begin, end); with kWatch, returns false when a value written is NaN or Inf.
  template <bool kWatch>
  bool update_elements(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end);

  AdamOptions options_;
  double step_size_ = 0;              // lr / (1 - b1^t), set by begin_step
  double inverse_second_correction_ = 0;  // 1 / (1 - b2^t)
  std::vector<Tensor> first_moment_, second_moment_;
  std::vector<std::byte*> first_open_, second_open_;  // each moment's values, opened by open_state
};

}  // namespace ag::nn
