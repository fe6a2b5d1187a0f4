// Tensors: creation, shape, element access, random generation, printing.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <cmath>
#include <cstdint>
#include <sstream>

TEST_CASE("from_vector keeps row-major order, shape and dtype") {
  ag::Tensor t = ag::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == ag::Shape{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.dim() == 2);
  CHECK(t.dtype() == ag::DType::f32);
  CHECK(t.at({0, 0}) == 1.0);
  CHECK(t.at({1, 2}) == 6.0);
  CHECK(t.size(-1) == 3);
  CHECK(t.size(0) == 2);
}

TEST_CASE("zeros, ones, full, scalar and the *_like forms") {
  CHECK(ag::zeros({3}, ag::DType::f64).to_vector() == std::vector<double>{0, 0, 0});
  CHECK(ag::ones({2, 2}).to_vector() == std::vector<double>{1, 1, 1, 1});
  CHECK(ag::full({2}, 2.5).to_vector() == std::vector<double>{2.5, 2.5});
  ag::Tensor s = ag::scalar(7.0, ag::DType::f64);
  CHECK(s.shape().empty());
  CHECK(s.item() == 7.0);
  ag::Tensor like = ag::ones_like(ag::zeros({4, 1}, ag::DType::f64));
  CHECK(like.shape() == ag::Shape{4, 1});
  CHECK(like.dtype() == ag::DType::f64);
}

TEST_CASE("set writes one element; clone is deep, detach shares values") {
  ag::Tensor t = ag::zeros({2, 2});
  t.set({1, 0}, 3.0);
  CHECK(t.to_vector() == std::vector<double>{0, 0, 3, 0});
  ag::Tensor copy = t.clone();
  ag::Tensor view = t.detach();
  t.set({0, 0}, 9.0);
  CHECK(copy.at({0, 0}) == 0.0);
  CHECK(view.at({0, 0}) == 9.0);
}

TEST_CASE("seeded generators repeat; uniform stays in range; normal has the right moments") {
  ag::Generator g1(42), g2(42);
  ag::Tensor a = ag::uniform({1000}, -2.0, 3.0, g1, ag::DType::f64);
  ag::Tensor b = ag::uniform({1000}, -2.0, 3.0, g2, ag::DType::f64);
  CHECK(a.to_vector() == b.to_vector());
  for (double v : a.to_vector()) {
    CHECK(v >= -2.0);
    CHECK(v < 3.0);
  }
  ag::Generator g3(7);
  const auto n = ag::normal({20000}, 1.0, 2.0, g3, ag::DType::f64).to_vector();
  double mean = 0, var = 0;
  for (double v : n) mean += v / n.size();
  for (double v : n) var += (v - mean) * (v - mean) / n.size();
  CHECK(mean == doctest::Approx(1.0).epsilon(0.05));
  CHECK(std::sqrt(var) == doctest::Approx(2.0).epsilon(0.05));
}

TEST_CASE("generator state round-trips through text") {
  ag::Generator g(5);
  g.next();
  const std::string state = g.state();
  const auto expected = g.next();
  ag::Generator h(0);
  h.set_state(state);
  CHECK(h.next() == expected);
  CHECK_THROWS_WITH_AS(h.set_state("not a state"), "Generator::set_state: the text is not a generator state", ag::Error);
}

TEST_CASE("printing shows values, shape and dtype") {
  std::ostringstream out;
  out << ag::from_vector({1, 2.5, -3, 4}, {2, 2});
  CHECK(out.str() == "tensor([[1, 2.5], [-3, 4]], shape=[2,2], dtype=float32)");
  ag::Tensor w = ag::ones({2}, ag::DType::f64);
  w.requires_grad_();
  CHECK(w.to_string() == "tensor([1, 1], shape=[2], dtype=float64, requires_grad=true)");
  CHECK(ag::mul(w, 2.0).to_string() == "tensor([2, 2], shape=[2], dtype=float64, grad_fn=mul_scalar)");
  CHECK(ag::from_indices({3, 1}, {2}).to_string() == "tensor([3, 1], shape=[2], dtype=int64)");
  // Large tensors are elided, not dumped whole.
  CHECK(ag::zeros({2000}).to_string().find("...") != std::string::npos);
}

TEST_CASE("element access and creation errors name the problem") {
  ag::Tensor t = ag::zeros({2, 3});
  CHECK_THROWS_WITH_AS(t.at({2, 0}), "Tensor::at: index 2 is out of range for dimension 0 of shape [2,3]", ag::Error);
  CHECK_THROWS_WITH_AS(t.at({0}), "Tensor::at: index has 1 entries for a tensor of shape [2,3]", ag::Error);
  CHECK_THROWS_WITH_AS(t.item(), "Tensor::item: needs a one-element tensor, got shape [2,3]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::from_vector({1, 2, 3}, {2, 2}), "from_vector: 3 values for shape [2,2] (4 elements)", ag::Error);
  CHECK_THROWS_WITH_AS(t.data<double>(), "Tensor::data: requested float64 values from a float32 tensor", ag::Error);
  CHECK_THROWS_WITH_AS(ag::Tensor().shape(), "Tensor: use of an undefined tensor", ag::Error);
  CHECK_THROWS_WITH_AS(ag::from_indices({1}, {1}).requires_grad_(),
                       "Tensor::requires_grad_: an int64 tensor cannot require a gradient", ag::Error);
}

TEST_CASE("storage: 64-byte aligned, shared by detach and copies of the handle, returned to the cache when unused") {
  ag::Storage a(10);
  CHECK(a.use_count() == 1);
  CHECK(reinterpret_cast<std::uintptr_t>(a.get()) % 64 == 0);
  {
    ag::Storage b = a;
    CHECK(a.use_count() == 2);
    CHECK(b.get() == a.get());
    ag::Storage c = std::move(b);
    CHECK(a.use_count() == 2);
    CHECK(b.get() == nullptr);  // NOLINT(bugprone-use-after-move): a moved-from handle is empty
    CHECK(b.use_count() == 0);
  }
  CHECK(a.use_count() == 1);
  CHECK(ag::Storage().get() == nullptr);

  const ag::Tensor t = ag::ones({3, 5});
  CHECK(reinterpret_cast<std::uintptr_t>(t.data<float>()) % 64 == 0);
  const ag::Tensor view = t.detach();
  CHECK(t.impl()->storage.use_count() == 2);
  CHECK(view.data<float>() == t.data<float>());
  CHECK(t.clone().impl()->storage.use_count() == 1);

  // Freed storage is taken back by the next tensor of its size, without a fresh allocation.
  const std::byte* freed = nullptr;
  {
    const ag::Tensor once = ag::empty({7, 9});
    freed = once.impl()->storage.get();
  }
  ag::reset_storage_stats();
  const ag::Tensor again = ag::empty({9, 7});
  CHECK(again.impl()->storage.get() == freed);
  CHECK(ag::storage_stats().fresh_allocations == 0);
  CHECK(ag::storage_stats().reuses == 1);
}

TEST_CASE("shape: a vector of dimensions, kept in place up to kInlineDims and on the heap beyond") {
  constexpr auto kInline = static_cast<std::int64_t>(ag::Shape::kInlineDims);
  ag::Shape s;
  CHECK(s.empty());
  for (std::int64_t d = 1; d <= kInline + 2; ++d) s.push_back(d);  // crosses into the heap
  REQUIRE(s.size() == static_cast<std::size_t>(kInline + 2));
  for (std::int64_t d = 0; d < kInline + 2; ++d) CHECK(s[static_cast<std::size_t>(d)] == d + 1);
  const ag::Shape copy = s;  // a heap shape's copy is its own
  s[0] = 100;
  CHECK(copy[0] == 1);
  CHECK(copy != s);
  s.erase(s.begin());
  s.pop_back();  // back in place: [2 .. kInline+1]
  CHECK(s.size() == static_cast<std::size_t>(kInline));
  CHECK(s.front() == 2);
  CHECK(s.back() == kInline + 1);
  s.insert(s.begin() + 1, {7, 8});
  CHECK(s[1] == 7);
  CHECK(s[2] == 8);
  CHECK(s[3] == 3);
  s.resize(2);
  CHECK(s == ag::Shape{2, 7});
  CHECK(ag::Shape(3, 4) == ag::Shape{4, 4, 4});
  const std::vector<std::int64_t> dims{5, 6};
  CHECK(ag::Shape(dims) == ag::Shape{5, 6});
  CHECK(ag::Shape(dims).to_vector() == dims);
  CHECK(ag::shape_str(copy) == "[1,2,3,4,5,6,7,8]");
}

TEST_CASE("shape: a tensor of a rank above the in-place dimensions computes and differentiates") {
  const ag::Shape eight{1, 2, 1, 3, 1, 2, 1, 2};
  const ag::Tensor x = ag::ones({24}).requires_grad_();
  const ag::Tensor y = ag::reshape(x, eight);
  CHECK(y.shape() == eight);
  CHECK(y.numel() == 24);
  const ag::Tensor loss = ag::sum(ag::mul(y, y));
  CHECK(loss.item() == 24.0);
  loss.backward();
  CHECK(x.grad().shape() == ag::Shape{24});
  CHECK(x.grad().at({5}) == 2.0);
}
