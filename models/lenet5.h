#pragma once
/// LeNet-5, as published (LeCun et al. 1998) and in a modern variant.
#include <memory>
#include <string_view>

#include "autograd/random.h"
#include "nn/module.h"

namespace ag::models {

/// The two architectures.
enum class Variant {
  lecun1998,  ///< 32x32 input; C1 S2 C3(Table I) S4 C5 F6, scaled tanh after each; RBF output on digit codes
  modern,     ///< 28x28 input, conv padding 2; ReLU, max-pool, He init, 10-way linear output (logits)
};

/// Parses "lecun1998" or "modern"; throws ag::Error naming the text otherwise.
Variant parse_variant(std::string_view name);
/// Returns "lecun1998" or "modern".
std::string_view variant_name(Variant variant);
/// Returns the input side (32 for lecun1998, 28 for modern): inputs are [N,1,side,side].
std::int64_t input_side(Variant variant);

/// Returns LeNet-5 as published: [N,1,32,32] -> [N,10] squared distances to the ten digit codes.
/// 60,000 trainable parameters, 340,908 connections.
std::shared_ptr<nn::Sequential> lecun1998(Generator& gen, DType dtype = DType::f32);

/// Returns the modern variant: [N,1,28,28] -> [N,10] logits.
std::shared_ptr<nn::Sequential> modern(Generator& gen, DType dtype = DType::f32);

/// Returns the model of `variant`.
std::shared_ptr<nn::Sequential> make_model(Variant variant, Generator& gen, DType dtype = DType::f32);

}  // namespace ag::models
