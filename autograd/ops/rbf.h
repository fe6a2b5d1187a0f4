#pragma once
/// LeNet-5's output layer: Euclidean radial basis function units.
#include "autograd/tensor.h"

namespace ag {

/// Returns y[n,i] = sum_j (x[n,j] - centres[i,j])^2: x [N,D], centres [K,D] -> [N,K]. The centres may or may
/// not require a gradient (LeNet-5 keeps them fixed).
Tensor rbf(const Tensor& x, const Tensor& centres);

}  // namespace ag
