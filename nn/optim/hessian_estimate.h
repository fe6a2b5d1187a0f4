#pragma once
/// The estimate of the Hessian's diagonal that stochastic diagonal Levenberg-Marquardt steps with (nn/optim/sdlm.h).
#include <cstdint>
#include <functional>
#include <vector>

#include "nn/module.h"

namespace ag::nn {

/// Returns, per parameter (its shape and dtype), h = (1/count) sum_{s<count} diag_GN(loss_of(s)): the mean over
/// the samples of the Gauss-Newton diagonal of d2E_s/dw^2 that ag::backward_curvature gives, summed in float64 in
/// sample order and rounded to the parameter's dtype once. `loss_of(s)` records sample s's one-element loss (the
/// paper uses one sample each). Touches no .grad and updates nothing (not even in backward); count > 0.
std::vector<Tensor> mean_curvature(const std::vector<Parameter>& parameters, std::int64_t count,
                                   const std::function<Tensor(std::int64_t)>& loss_of);

}  // namespace ag::nn
