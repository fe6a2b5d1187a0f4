#include <doctest/doctest.h>

#include <autograd/autograd.h>

TEST_CASE("tensor creation, shape and element access") {
  ag::Tensor t = ag::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == ag::Shape{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.dtype() == ag::DType::f32);
  CHECK(t.at({1, 2}) == 6.0);
  CHECK(t.size(-1) == 3);
  CHECK(ag::zeros({3}, ag::DType::f64).to_vector() == std::vector<double>{0, 0, 0});
}
