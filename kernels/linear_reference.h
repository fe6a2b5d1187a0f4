#pragma once
/// The fully connected layer's reference kernels (plain loops; kernels/linear.h picks them or the fast path).
#include <cstdint>

namespace ag::kernels {

/// y [N,out] = x [N,in] W^T + bias, W [out,in], bias [out] or null; each sum in order of the feature.
template <class T>
void linear_reference_forward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x,
                              const T* w, const T* bias, T* y);

/// dL/dx [N,in] = G W, dL/dW [out,in] = G^T x, dL/dbias [out] = sum over n of G, from G [N,out]; each
/// written where not null.
template <class T>
void linear_reference_backward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x,
                               const T* w, const T* g, T* gx, T* gw, T* gb);

}  // namespace ag::kernels
