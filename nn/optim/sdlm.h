#pragma once
/// Stochastic diagonal Levenberg-Marquardt (LeCun et al. 1998, Appendix C): SGD with a step per parameter from the
/// diagonal of the Gauss-Newton matrix.
#include "nn/optim/optimizer.h"

namespace ag::nn {

struct SdlmOptions {
  double learning_rate = 0.0005;  ///< eta, the global rate (the paper's schedule starts here)
  double mu = 0.02;               ///< damping: bounds the step eta / mu where the curvature is near 0
  double weight_decay = 0.0;      ///< adds weight_decay * w to every gradient
};

/// g' = g + wd w;  w_k -= eta / (mu + h_kk) g'_k, with h_kk the estimate of d2E/dw_k^2 that set_hessian() gives
/// (0 until then: plain SGD at rate eta / mu). The estimate is kept between steps, as the paper keeps it for a pass.
class Sdlm : public Optimizer {
 public:
  /// Creates the optimizer with h = 0, each h_k of parameter k's shape; throws naming the option out of range.
  Sdlm(std::vector<Parameter> parameters, const SdlmOptions& options);
  /// Returns "<parameter>.hessian" (parameter k's shape) for each parameter: the estimates that steps use.
  std::vector<std::pair<std::string, Tensor>> state() const override;
  /// Copies `diagonals` (one per parameter, in order, each of its parameter's shape) into h; throws naming the
  /// parameter when a shape differs or a value is negative or not finite.
  void set_hessian(const std::vector<Tensor>& diagonals);
  /// Returns mu, the damping [scalar].
  double mu() const { return options_.mu; }

 protected:
  void update(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) override;

 private:
  SdlmOptions options_;
  std::vector<Tensor> hessian_;
};

}  // namespace ag::nn
