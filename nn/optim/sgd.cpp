#include "nn/optim/sgd.h"

#include "autograd/anomaly.h"
#include "nn/optim/moment_floor.h"

namespace ag::nn {

Sgd::Sgd(std::vector<Parameter> parameters, const SgdOptions& options)
    : Optimizer(std::move(parameters), options.learning_rate), options_(options) {
  if (options.momentum < 0 || options.momentum >= 1) fail("sgd", "momentum must be in [0, 1), got {}", options.momentum);
  if (options.weight_decay < 0) fail("sgd", "weight_decay must be >= 0, got {}", options.weight_decay);
  if (options.nesterov && options.momentum == 0) fail("sgd", "nesterov needs a momentum > 0");
  for (const auto& p : parameters_) velocity_.push_back(zeros_like(p.value));
  velocity_open_.resize(parameters_.size());
}

std::vector<std::pair<std::string, Tensor>> Sgd::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) out.emplace_back(parameters_[i].name + ".velocity", velocity_[i]);
  return out;
}

void Sgd::open_state(std::size_t index) {
  dispatch_floating(parameters_[index].value.dtype(), "sgd", [&](auto type) {
    velocity_open_[index] = reinterpret_cast<std::byte*>(velocity_[index].mutable_data<decltype(type)>());
  });
}

void Sgd::update(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) {
  update_elements<false>(index, values, grad, begin, end);
}

bool Sgd::update_and_check(std::size_t index, void* values, const void* grad, std::int64_t begin,
                           std::int64_t end) {
  return update_elements<true>(index, values, grad, begin, end);
}

/// With kWatch, each value written is watched for NaN and Inf while it is in a register (FiniteScan).
template <bool kWatch>
bool Sgd::update_elements(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) {
  return dispatch_floating(parameters_[index].value.dtype(), "sgd", [&](auto type) {
    using T = decltype(type);
    const std::int64_t n = end - begin;
    T* w = static_cast<T*>(values);
    const T* g = static_cast<const T*>(grad);
    T* v = reinterpret_cast<T*>(velocity_open_[index]) + begin;
    const T lr = static_cast<T>(learning_rate_), mu = static_cast<T>(options_.momentum),
            wd = static_cast<T>(options_.weight_decay);
    FiniteScan<T> written;
    if (options_.momentum == 0) {
      for (std::int64_t i = 0; i < n; ++i) {
        w[i] -= lr * (g[i] + wd * w[i]);
        if constexpr (kWatch) written.see(w[i]);
      }
      return written.all_finite();
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const T gi = g[i] + wd * w[i];
      v[i] = floor_moment(mu * v[i] + gi);
      w[i] -= lr * (options_.nesterov ? gi + mu * v[i] : v[i]);
      if constexpr (kWatch) written.see(w[i]);
    }
    return written.all_finite();
  });
}

}  // namespace ag::nn
