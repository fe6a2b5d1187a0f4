#include "nn/optim/hessian_estimate.h"

#include <cstddef>

#include "autograd/curvature.h"

namespace ag::nn {

std::vector<Tensor> mean_curvature(const std::vector<Parameter>& parameters, std::int64_t count,
                                   const std::function<Tensor(std::int64_t)>& loss_of) {
  if (count <= 0) fail("mean_curvature", "needs at least one sample, got {}", count);
  std::vector<Tensor> values;
  std::vector<std::vector<double>> sums;
  for (const Parameter& p : parameters) {
    values.push_back(p.value);
    sums.emplace_back(static_cast<std::size_t>(p.value.numel()), 0.0);
  }
  for (std::int64_t s = 0; s < count; ++s) {
    const CurvatureResult r = backward_curvature(loss_of(s), values);
    for (std::size_t k = 0; k < sums.size(); ++k) {
      const std::vector<double> diagonal = r.diagonals[k].to_vector();
      for (std::size_t e = 0; e < diagonal.size(); ++e) sums[k][e] += diagonal[e];
    }
  }
  std::vector<Tensor> means;
  for (std::size_t k = 0; k < sums.size(); ++k) {
    for (double& sum : sums[k]) sum /= static_cast<double>(count);
    means.push_back(from_vector(sums[k], values[k].shape(), values[k].dtype()));
  }
  return means;
}

}  // namespace ag::nn
