#pragma once
/// The fully connected layer's kernels: y = x W^T + b and its gradients.
#include <cstdint>

#include "kernels/activation.h"
#include "kernels/block_sink.h"
#include "kernels/reference.h"

namespace ag::kernels {

/// y [N,out] = activation(x [N,in] W^T + bias), W [out,in], bias [out] or null.
template <class T>
void linear_forward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                    const T* bias, Activation activation, T* y, Implementation impl = kImplementation);

/// From G = dL/dz [N,out] (after the activation's gradient): dL/dx [N,in] = G W, dL/dW [out,in] = G^T x,
/// dL/dbias [out] = sum over n of G, each written where not null; dL/dW goes block by block to `w_sink`
/// instead of gw when one is given (after dL/dx has read w).
template <class T>
void linear_backward(std::int64_t batch, std::int64_t outputs, std::int64_t features, const T* x, const T* w,
                     const T* g, T* gx, T* gw, T* gb, const BlockSink* w_sink = nullptr,
                     Implementation impl = kImplementation);

}  // namespace ag::kernels
