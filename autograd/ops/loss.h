#pragma once
/// Losses, each a scalar (shape []) mean over the batch: composed from the engine's ops, so that their
/// gradients come from the engine, except cross_entropy and rbf_map_loss, each one op with its own rule
/// (checked by gradcheck).
#include "autograd/tensor.h"

namespace ag {

/// Returns mean_n -log softmax(logits[n])[target[n]]: logits [N,C], target int64 [N] -> [].
Tensor cross_entropy(const Tensor& logits, const Tensor& target);
/// Returns mean((prediction - target)^2) over all elements: two tensors of one shape -> [].
Tensor mse_loss(const Tensor& prediction, const Tensor& target);
/// The paper's MLE criterion (eq. 8) on RBF outputs: mean_n y[n, target[n]]: y [N,K], target [N] -> [].
Tensor rbf_mle_loss(const Tensor& rbf_output, const Tensor& target);
/// The paper's MAP criterion (eq. 9): mean_n ( y[n,t_n] + log(e^-j + sum_i e^-y[n,i]) ), y [N,K] -> [].
/// The constant j (> 0) is the "rubbish class" that stops large penalties being pushed further up.
Tensor rbf_map_loss(const Tensor& rbf_output, const Tensor& target, double j);

}  // namespace ag
