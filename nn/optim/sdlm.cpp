#include "nn/optim/sdlm.h"

#include <cmath>

namespace ag::nn {

Sdlm::Sdlm(std::vector<Parameter> parameters, const SdlmOptions& options)
    : Optimizer(std::move(parameters), options.learning_rate), options_(options) {
  if (!(options.mu > 0) || !std::isfinite(options.mu)) fail("sdlm", "mu must be finite and > 0, got {}", options.mu);
  if (options.weight_decay < 0) fail("sdlm", "weight_decay must be >= 0, got {}", options.weight_decay);
  for (const auto& p : parameters_) hessian_.push_back(zeros_like(p.value));
}

std::vector<std::pair<std::string, Tensor>> Sdlm::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) out.emplace_back(parameters_[i].name + ".hessian", hessian_[i]);
  return out;
}

void Sdlm::set_hessian(const std::vector<Tensor>& diagonals) {
  if (diagonals.size() != parameters_.size())
    fail("sdlm", "set_hessian expects one diagonal per parameter ({}), got {}", parameters_.size(), diagonals.size());
  std::vector<std::vector<double>> values;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {  // all checked before any is written
    const Tensor& d = diagonals[i];
    if (!d.defined() || d.shape() != hessian_[i].shape())
      fail("sdlm", "the diagonal for parameter '{}' {} has shape {}", parameters_[i].name,
           shape_str(hessian_[i].shape()), d.defined() ? shape_str(d.shape()) : std::string("undefined"));
    values.push_back(d.to_vector());
    for (const double h : values.back()) {
      if (!(h >= 0) || !std::isfinite(h))
        fail("sdlm", "the diagonal for parameter '{}' holds {}; the curvature must be finite and >= 0",
             parameters_[i].name, h);
    }
  }
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    // In place: state() handed these tensors out (a checkpoint writes them and restores into them).
    dispatch_floating(hessian_[i].dtype(), "sdlm", [&](auto type) {
      using T = decltype(type);
      T* h = hessian_[i].template mutable_data<T>();
      for (std::size_t k = 0; k < values[i].size(); ++k) h[k] = static_cast<T>(values[i][k]);
    });
  }
}

void Sdlm::update(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) {
  dispatch_floating(parameters_[index].value.dtype(), "sdlm", [&](auto type) {
    using T = decltype(type);
    const std::int64_t n = end - begin;
    T* w = static_cast<T*>(values);
    const T* g = static_cast<const T*>(grad);
    const T* h = hessian_[index].data<T>() + begin;
    const T eta = static_cast<T>(learning_rate_), mu = static_cast<T>(options_.mu),
            wd = static_cast<T>(options_.weight_decay);
    // The step of element k, eta / (mu + h_kk), times its gradient (plus decay).
    for (std::int64_t i = 0; i < n; ++i) w[i] -= eta / (mu + h[i]) * (g[i] + wd * w[i]);
  });
}

}  // namespace ag::nn
