#include "nn/init.h"

#include <algorithm>
#include <cmath>

#include "autograd/error.h"

namespace ag::nn {

std::string init_name(Init scheme) {
  switch (scheme) {
    case Init::lecun1998: return "lecun1998";
    case Init::lecun_sqrt: return "lecun_sqrt";
    case Init::xavier: return "xavier";
    case Init::he: return "he";
  }
  return "unknown";
}

Init parse_init(std::string_view name) {
  for (const Init scheme : {Init::lecun1998, Init::lecun_sqrt, Init::xavier, Init::he})
    if (init_name(scheme) == name) return scheme;
  fail("init", "unknown scheme \"{}\"; expected lecun1998, lecun_sqrt, xavier or he", name);
}

void fill_uniform(Tensor& t, double bound, Generator& gen) {
  dispatch_floating(t.dtype(), "fill_uniform", [&](auto type) {
    using T = decltype(type);
    T* p = t.mutable_data<T>();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(gen.uniform(-bound, bound));
  });
}

void fill_normal(Tensor& t, double stddev, Generator& gen) {
  dispatch_floating(t.dtype(), "fill_normal", [&](auto type) {
    using T = decltype(type);
    T* p = t.mutable_data<T>();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(stddev * gen.normal());
  });
}

void fill_constant(Tensor& t, double value) {
  dispatch_floating(t.dtype(), "fill_constant", [&](auto type) {
    using T = decltype(type);
    std::fill_n(t.mutable_data<T>(), t.numel(), static_cast<T>(value));
  });
}

void init_weight(Tensor& weight, Init scheme, std::int64_t fan_in, std::int64_t fan_out, Generator& gen) {
  switch (scheme) {
    case Init::lecun1998: fill_uniform(weight, 2.4 / static_cast<double>(fan_in), gen); break;
    case Init::lecun_sqrt: fill_uniform(weight, 1.0 / std::sqrt(static_cast<double>(fan_in)), gen); break;
    case Init::xavier: fill_uniform(weight, std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)), gen); break;
    case Init::he: fill_normal(weight, std::sqrt(2.0 / static_cast<double>(fan_in)), gen); break;
  }
}

void init_bias(Tensor& bias, Init scheme, std::int64_t fan_in, Generator& gen) {
  if (scheme == Init::lecun1998 || scheme == Init::lecun_sqrt) fill_uniform(bias, 2.4 / static_cast<double>(fan_in), gen);
  else fill_constant(bias, 0.0);
}

}  // namespace ag::nn
