#include "models/lenet5.h"

#include "models/digit_codes.h"
#include "nn/layers/activation.h"
#include "nn/layers/conv2d.h"
#include "nn/layers/linear.h"
#include "nn/layers/max_pool.h"
#include "nn/layers/rbf_output.h"
#include "nn/layers/subsampling.h"

namespace ag::models {

using namespace ag::nn;

Variant parse_variant(std::string_view name) {
  if (name == "lecun1998") return Variant::lecun1998;
  if (name == "modern") return Variant::modern;
  fail("model", "unknown variant \"{}\"; expected lecun1998 or modern", name);
}

std::string_view variant_name(Variant variant) { return variant == Variant::lecun1998 ? "lecun1998" : "modern"; }

std::int64_t input_side(Variant variant) { return variant == Variant::lecun1998 ? 32 : 28; }

std::shared_ptr<Sequential> lecun1998(Generator& gen, DType dtype) {
  auto net = std::make_shared<Sequential>();
  Conv2dOptions c3_options;
  c3_options.table = ConnectionTable::lenet5_c3();
  net->add("c1", std::make_shared<Conv2d>(1, 6, 5, gen, Conv2dOptions{}, Init::lecun1998, dtype))  // 6@28x28
      .add("f1", std::make_shared<ScaledTanh>())
      .add("s2", std::make_shared<Subsampling>(6, 2, gen, Init::lecun1998, dtype))  // 6@14x14
      .add("f2", std::make_shared<ScaledTanh>())
      .add("c3", std::make_shared<Conv2d>(6, 16, 5, gen, c3_options, Init::lecun1998, dtype))  // 16@10x10
      .add("f3", std::make_shared<ScaledTanh>())
      .add("s4", std::make_shared<Subsampling>(16, 2, gen, Init::lecun1998, dtype))  // 16@5x5
      .add("f4", std::make_shared<ScaledTanh>())
      .add("c5", std::make_shared<Conv2d>(16, 120, 5, gen, Conv2dOptions{}, Init::lecun1998, dtype))  // 120@1x1
      .add("f5", std::make_shared<ScaledTanh>())
      .add("flat", std::make_shared<Flatten>())
      .add("f6", std::make_shared<Linear>(120, 84, gen, Init::lecun1998, dtype))
      .add("f7", std::make_shared<ScaledTanh>())
      .add("output", std::make_shared<RbfOutput>(digit_codes(dtype)));
  return net;
}

std::shared_ptr<Sequential> modern(Generator& gen, DType dtype) {
  auto net = std::make_shared<Sequential>();
  Conv2dOptions pad2;
  pad2.padding = 2;
  net->add("c1", std::make_shared<Conv2d>(1, 6, 5, gen, pad2, Init::he, dtype))  // 6@28x28
      .add("r1", std::make_shared<ReLU>())
      .add("p2", std::make_shared<MaxPool2d>(2))  // 6@14x14
      .add("c3", std::make_shared<Conv2d>(6, 16, 5, gen, Conv2dOptions{}, Init::he, dtype))  // 16@10x10
      .add("r3", std::make_shared<ReLU>())
      .add("p4", std::make_shared<MaxPool2d>(2))  // 16@5x5
      .add("c5", std::make_shared<Conv2d>(16, 120, 5, gen, Conv2dOptions{}, Init::he, dtype))  // 120@1x1
      .add("r5", std::make_shared<ReLU>())
      .add("flat", std::make_shared<Flatten>())
      .add("f6", std::make_shared<Linear>(120, 84, gen, Init::he, dtype))
      .add("r6", std::make_shared<ReLU>())
      .add("output", std::make_shared<Linear>(84, 10, gen, Init::xavier, dtype));
  return net;
}

std::shared_ptr<Sequential> make_model(Variant variant, Generator& gen, DType dtype) {
  return variant == Variant::lecun1998 ? lecun1998(gen, dtype) : modern(gen, dtype);
}

}  // namespace ag::models
