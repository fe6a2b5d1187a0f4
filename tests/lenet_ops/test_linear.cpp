// linear (F6 and the output layer): the products' columns past the last whole vector.
#include <doctest/doctest.h>

#include "lenet_ops_support.h"

using namespace lenet_test;

TEST_CASE("linear: a feature's gradients are the same bits whether or not it falls past the last whole vector") {
  // dL/dx = G W and dL/dW = G^T x sum over outputs and samples, never over features, so rotating the
  // features rotates both gradients exactly, with G given as the upstream gradient (no activation).
  // F6's 84 outputs; 125 features leave 13 past the last whole vector of 16 floats (5 past 8), which the
  // rotation by 13 moves to the front.
  constexpr std::int64_t samples = 64, outputs = 84, features = 125, shift = 13;
  ag::Generator gen(41);
  for (const DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ag::dtype_name(dtype));
    const auto leaf = [&](const Shape& shape) {
      return ag::to_dtype(test::param(shape, gen), dtype).detach().requires_grad_();
    };
    const Tensor x = leaf({samples, features}), w = leaf({outputs, features}), b = leaf({outputs});
    const Tensor upstream = ag::to_dtype(test::param({samples, outputs}, gen), dtype).detach();
    // Column i of a [rows, features] matrix moved to column (i + shift) % features.
    const auto rotate = [&](const Tensor& m) {
      const auto v = m.to_vector();
      std::vector<double> out(v.size());
      const auto rows = static_cast<std::size_t>(m.size(0)), cols = static_cast<std::size_t>(features);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t i = 0; i < cols; ++i) out[r * cols + (i + shift) % cols] = v[r * cols + i];
      Tensor t = ag::from_vector(out, m.shape(), dtype);
      return m.requires_grad() ? t.requires_grad_() : t;
    };
    const auto f = [](const Inputs& v) { return ag::linear(v[0], v[1], v[2]); };
    const Inputs plain = gradients(f, {x, w, b}, upstream);
    const Inputs rotated = gradients(f, {rotate(x), rotate(w), b}, upstream);
    CHECK(rotate(plain[0]).to_vector() == rotated[0].to_vector());  // dL/dx
    CHECK(rotate(plain[1]).to_vector() == rotated[1].to_vector());  // dL/dW
    CHECK(plain[2].to_vector() == rotated[2].to_vector());          // dL/db
  }
}
