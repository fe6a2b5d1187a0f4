#include "nn/optim/adam.h"

#include <algorithm>
#include <cmath>

#include "autograd/anomaly.h"
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
  first_open_.resize(parameters_.size());
  second_open_.resize(parameters_.size());
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    out.emplace_back(parameters_[i].name + ".m", first_moment_[i]);
    out.emplace_back(parameters_[i].name + ".v", second_moment_[i]);
  }
  return out;
}

void Adam::begin_step() {
  // steps_ was already incremented for this step, so t >= 1 and the corrections are > 0.
  const double t = static_cast<double>(steps_);
  step_size_ = learning_rate_ / (1 - std::pow(options_.beta1, t));
  inverse_second_correction_ = 1 / (1 - std::pow(options_.beta2, t));
}

void Adam::open_state(std::size_t index) {
  dispatch_floating(parameters_[index].value.dtype(), "adam", [&](auto type) {
    using T = decltype(type);
    first_open_[index] = reinterpret_cast<std::byte*>(first_moment_[index].mutable_data<T>());
    second_open_[index] = reinterpret_cast<std::byte*>(second_moment_[index].mutable_data<T>());
  });
}

namespace {

/// The step's constants in the element type.
template <class T>
struct AdamConstants {
  T b1, b2, eps, wd, alpha, inverse_second_correction;
};

/// Updates elements [0, n). Its own function taking values, not references, so that the compiler need not
/// reload them after every store, and vectorises. Without weight decay (kDecay false) the loop does not add
/// wd w. The loop's division and square root bound its speed; its moments stay out of the subnormal range
/// (moment_floor.h): subnormal ones more than doubled its time. With kWatch it also watches each value it
/// writes (returning false on a NaN or Inf) while the value is in a register; without, it returns true.
template <bool kDecay, bool kWatch, class T>
bool adam_elements(T* w, const T* g, T* m, T* v, AdamConstants<T> c, std::int64_t n) {
  FiniteScan<T> written;
  for (std::int64_t i = 0; i < n; ++i) {
    const T gi = kDecay ? g[i] + c.wd * w[i] : g[i];
    m[i] = floor_moment(c.b1 * m[i] + (1 - c.b1) * gi);
    v[i] = floor_moment(c.b2 * v[i] + (1 - c.b2) * gi * gi);
    w[i] -= c.alpha * m[i] / (std::sqrt(v[i] * c.inverse_second_correction) + c.eps);
    if constexpr (kWatch) written.see(w[i]);
  }
  return written.all_finite();
}

}  // namespace

void Adam::update(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) {
  update_elements<false>(index, values, grad, begin, end);
}

bool Adam::update_and_check(std::size_t index, void* values, const void* grad, std::int64_t begin,
                            std::int64_t end) {
  return update_elements<true>(index, values, grad, begin, end);
}

template <bool kWatch>
bool Adam::update_elements(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) {
  return dispatch_floating(parameters_[index].value.dtype(), "adam", [&](auto type) {
    using T = decltype(type);
    const AdamConstants<T> constants{static_cast<T>(options_.beta1),        static_cast<T>(options_.beta2),
                                     static_cast<T>(options_.eps),          static_cast<T>(options_.weight_decay),
                                     static_cast<T>(step_size_), static_cast<T>(inverse_second_correction_)};
    T* w = static_cast<T*>(values);
    const T* g = static_cast<const T*>(grad);
    T* m = reinterpret_cast<T*>(first_open_[index]) + begin;
    T* v = reinterpret_cast<T*>(second_open_[index]) + begin;
    const std::int64_t n = end - begin;
    return options_.weight_decay != 0 ? adam_elements<true, kWatch>(w, g, m, v, constants, n)
                                      : adam_elements<false, kWatch>(w, g, m, v, constants, n);
  });
}

}  // namespace ag::nn
