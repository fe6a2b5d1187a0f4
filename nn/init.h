#pragma once
/// Initialisers: fill a parameter in place from an explicit seeded generator.
#include <cstdint>
#include <string>
#include <string_view>

#include "autograd/random.h"
#include "autograd/tensor.h"

namespace ag::nn {

/// The initialisation schemes a layer can be given.
enum class Init {
  lecun1998,  ///< the paper's: uniform in [-2.4/F, 2.4/F], F the unit's fan-in; biases likewise
  lecun_sqrt, ///< weights uniform in [-1/sqrt(F), 1/sqrt(F)] (EBLearn's LeNet-5); biases as lecun1998
  xavier,     ///< Glorot uniform: bound sqrt(6 / (fan_in + fan_out)); biases 0
  he,         ///< He (Kaiming) normal: stddev sqrt(2 / fan_in), for ReLU layers; biases 0
};

/// Parses "lecun1998", "lecun_sqrt", "xavier" or "he"; throws ag::Error naming the text otherwise.
Init parse_init(std::string_view name);

/// Returns the name parse_init() reads for `scheme`.
std::string init_name(Init scheme);

/// Fills `t` (any shape) with values uniform in [-bound, bound).
void fill_uniform(Tensor& t, double bound, Generator& gen);
/// Fills `t` with normal values of mean 0 and the given stddev.
void fill_normal(Tensor& t, double stddev, Generator& gen);
/// Fills `t` with `value`.
void fill_constant(Tensor& t, double value);

/// Initialises a weight tensor by `scheme`, given its units' fan-in and fan-out.
void init_weight(Tensor& weight, Init scheme, std::int64_t fan_in, std::int64_t fan_out, Generator& gen);
/// Initialises a bias tensor by `scheme` (uniform +-2.4/F for lecun1998 and lecun_sqrt, zero otherwise).
void init_bias(Tensor& bias, Init scheme, std::int64_t fan_in, Generator& gen);

}  // namespace ag::nn
