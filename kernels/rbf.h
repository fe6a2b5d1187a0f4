#pragma once
/// The Euclidean RBF output's kernels: squared distances of each sample to each centre, and their gradients.
#include <cstdint>

#include "kernels/reference.h"

namespace ag::kernels {

/// y [N,K]: y[n,i] = sum_j (x[n,j] - w[i,j])^2 for x [N,D] and centres w [K,D].
template <class T>
void rbf_forward(std::int64_t batch, std::int64_t units, std::int64_t d, const T* x, const T* w, T* y,
                 Implementation impl = kImplementation);

/// With G = dL/dy [N,K] and r = 2 G[n,i] (x[n,:] - w[i,:]): dL/dx [N,D] = sum_i r, dL/dw [K,D] = -sum_n r, each
/// written where not null.
template <class T>
void rbf_backward(std::int64_t batch, std::int64_t units, std::int64_t d, const T* x, const T* w, const T* gy, T* gx,
                  T* gw);

}  // namespace ag::kernels
