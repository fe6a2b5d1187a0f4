// In-place writes: every write of a tensor's values counts in its version; backward refuses a rule whose saved
// values were written since the op ran, naming the op, the tensor and both versions; a leaf that requires a
// gradient is written only outside grad mode.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <fmt/format.h>

#include <vector>

using ag::Tensor;

TEST_CASE("versions: each write counts, shared by the views of the same values") {
  Tensor x = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64);
  const std::uint64_t start = x.version();
  x.set({0}, 5);
  CHECK(x.version() == start + 1);
  Tensor view = ag::reshape(x, {3, 1});
  Tensor detached = x.detach();
  detached.mutable_data<double>()[1] = 7;
  CHECK(x.version() == start + 2);
  CHECK(view.version() == start + 2);
  (void)x.data<double>();  // reading is not a write
  CHECK(x.version() == start + 2);
  CHECK(x.to_vector() == std::vector<double>{5, 7, 3});
}

TEST_CASE("versions: writing an input the rule reads, after the op, is refused by backward with both versions") {
  // The example: y = sum(square(x)) for x = [1, 2, 3], then x changed before backward.
  Tensor w = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64).requires_grad_();
  Tensor x = w * 1.0;  // not a leaf: writable in grad mode
  Tensor y = ag::sum(ag::square(x));
  const std::uint64_t before = x.version();
  x.set({0}, 10);
  CHECK_THROWS_WITH_AS(y.backward(),
                       fmt::format("square: input 0 [3] was written in place after the op used it (version {} now, "
                                   "{} when the op ran); its backward would use the new values: write into a copy, "
                                   "or before the op",
                                   before + 1, before)
                           .c_str(),
                       ag::Error);
}

TEST_CASE("versions: a rule that reads only its output accepts a written input, and refuses a written output") {
  Tensor w = ag::from_vector({0.5, -1, 2}, {3}, ag::DType::f64).requires_grad_();
  SUBCASE("the input of tanh is not read by its rule") {
    Tensor x = w * 2.0;
    Tensor y = ag::tanh(x);
    x.set({1}, 4);  // tanh's rule reads y, not x; mul_scalar's reads nothing
    ag::sum(y).backward();
    CHECK(w.grad().defined());
  }
  SUBCASE("the output of tanh is") {
    Tensor y = ag::tanh(w * 2.0);
    Tensor z = ag::sum(y);
    y.set({1}, 4);
    CHECK_THROWS_WITH_AS(z.backward(), doctest::Contains("tanh: its saved output [3] was written in place"), ag::Error);
  }
  SUBCASE("add reads no values at all") {
    Tensor a = w * 1.0;
    Tensor y = a + w;
    a.set({0}, 9);
    ag::sum(y).backward();
    CHECK(w.grad().to_vector() == std::vector<double>{2, 2, 2});
  }
}

TEST_CASE("versions: a leaf that requires a gradient is written only outside grad mode") {
  Tensor w = ag::ones({2}).requires_grad_();
  CHECK_THROWS_WITH_AS(w.set({0}, 3),
                       "Tensor::mutable_data: writing into a leaf that requires a gradient; write inside an "
                       "ag::NoGradGuard (as an optimizer does), or into a copy",
                       ag::Error);
  CHECK_THROWS_AS(w.mutable_data<float>(), ag::Error);
  {
    const ag::NoGradGuard no_grad;
    w.set({0}, 3);
  }
  CHECK(w.at({0}) == 3);
  // A leaf written between a forward and its backward is caught by the version check too.
  Tensor y = ag::sum(ag::square(w));
  {
    const ag::NoGradGuard no_grad;
    w.set({1}, 5);
  }
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("square: input 0 [2] was written in place"), ag::Error);
}

TEST_CASE("versions: an op with more inputs than are kept in place checks the last of them too") {
  // A node keeps the versions of its first six tensors in place and the rest beside: input 7 is one of the rest.
  Tensor w = ag::from_vector({1, 2}, {2}, ag::DType::f64).requires_grad_();
  std::vector<Tensor> inputs;
  for (int i = 0; i < 8; ++i) inputs.push_back(w * static_cast<double>(i + 1));
  Tensor total = inputs[0].detach().clone();
  for (int i = 1; i < 8; ++i) total = ag::add(total, inputs[static_cast<std::size_t>(i)].detach());
  const Tensor y = ag::sum(ag::record("sum8", total, inputs, [](const Tensor& g, const std::vector<Tensor>& in) {
    return std::vector<Tensor>(in.size(), g);
  }));
  const std::uint64_t before = inputs[7].version();
  inputs[7].set({1}, 0);
  const std::string expected = fmt::format(
      "sum8: input 7 [2] was written in place after the op used it (version {} now, {} when the op ran)", before + 1,
      before);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains(expected.c_str()), ag::Error);
}
