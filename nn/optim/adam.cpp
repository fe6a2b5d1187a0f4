#include "nn/optim/adam.h"

#include <algorithm>
#include <cmath>

#include "autograd/detail/parallel.h"
#include "nn/optim/moment_floor.h"

namespace ag::nn {

Adam::Adam(std::vector<Parameter> parameters, const AdamOptions& options)
    : Optimizer(std::move(parameters), options.learning_rate), options_(options) {
  if (options.beta1 < 0 || options.beta1 >= 1) fail("adam", "beta1 must be in [0, 1), got {}", options.beta1);
  if (options.beta2 < 0 || options.beta2 >= 1) fail("adam", "beta2 must be in [0, 1), got {}", options.beta2);
  if (!(options.eps > 0)) fail("adam", "eps must be > 0, got {}", options.eps);
  if (options.weight_decay < 0) fail("adam", "weight_decay must be >= 0, got {}", options.weight_decay);
  for (const auto& p : parameters_) {
    first_moment_.push_back(zeros_like(p.value));
    second_moment_.push_back(zeros_like(p.value));
  }
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    out.emplace_back(parameters_[i].name + ".m", first_moment_[i]);
    out.emplace_back(parameters_[i].name + ".v", second_moment_[i]);
  }
  return out;
}

void Adam::update(std::size_t index, Tensor& value, const Tensor& grad) {
  // steps_ was already incremented for this step, so t >= 1 and the corrections are > 0.
  const double t = static_cast<double>(steps_);
  const double step_size = learning_rate_ / (1 - std::pow(options_.beta1, t));
  const double second_correction = 1 - std::pow(options_.beta2, t);
  dispatch_floating(value.dtype(), "adam", [&](auto type) {
    using T = decltype(type);
    T* w = value.data<T>();
    const T* g = grad.data<T>();
    T* m = first_moment_[index].data<T>();
    T* v = second_moment_[index].data<T>();
    const T b1 = static_cast<T>(options_.beta1), b2 = static_cast<T>(options_.beta2);
    const T eps = static_cast<T>(options_.eps), wd = static_cast<T>(options_.weight_decay);
    const T alpha = static_cast<T>(step_size), inv_correction = static_cast<T>(1 / second_correction);
    // Blocks of elements spread over the kernel threads (each element's update is the same whichever
    // thread makes it). The loop is a fifth of a batch-1 training step, bound by streaming four arrays
    // through the caches (without the square root and the division it is no faster, measured); the count
    // is read once so that the loop vectorises. Moments are floored (moment_floor.h): subnormal ones
    // more than doubled its time.
    constexpr std::int64_t kBlock = 8192;
    const std::int64_t count = value.numel(), blocks = (count + kBlock - 1) / kBlock;
    // Captured by value: through references the compiler must reload them after every store, and does not
    // vectorise.
    detail::parallel_for(blocks, [=](std::int64_t block) {
      const std::int64_t end = std::min(count, (block + 1) * kBlock);
      for (std::int64_t i = block * kBlock; i < end; ++i) {
        const T gi = g[i] + wd * w[i];
        m[i] = floor_moment(b1 * m[i] + (1 - b1) * gi);
        v[i] = floor_moment(b2 * v[i] + (1 - b2) * gi * gi);
        w[i] -= alpha * m[i] / (std::sqrt(v[i] * inv_correction) + eps);
      }
    }, 4 * count);
  });
}

}  // namespace ag::nn
