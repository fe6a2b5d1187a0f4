#pragma once
/// Matrix products: 2-D, and batched with broadcast batch dimensions.
#include "autograd/tensor.h"

namespace ag {

/// Returns a @ b: [M,K] x [K,N] -> [M,N], or batched [...,M,K] x [...,K,N] -> [...,M,N] with the batch
/// dimensions broadcast (so [B,M,K] x [K,N] works). Throws naming both shapes when K differs.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace ag
