// Error messages are part of the API: each names the op and the shapes. Pinned here.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

using ag::Tensor;
using ag::zeros;

TEST_CASE("matmul names both shapes when the inner dimensions differ") {
  CHECK_THROWS_WITH_AS(ag::matmul(zeros({64, 120}), zeros({84, 10})), "matmul: inner dimensions differ: [64,120] x [84,10]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::matmul(zeros({3}), zeros({3, 2})), "matmul: needs tensors of rank 2 or more: [3] x [3,2]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::matmul(zeros({2, 2, 3}), zeros({3, 3, 4})),
                       "matmul: batch dimensions do not broadcast: [2,2,3] x [3,3,4]", ag::Error);
}

TEST_CASE("elementwise ops name both shapes when they do not broadcast") {
  CHECK_THROWS_WITH_AS(ag::add(zeros({2, 3}), zeros({4})), "add: shapes do not broadcast: [2,3] and [4]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::mul(zeros({5}), zeros({2, 3})), "mul: shapes do not broadcast: [5] and [2,3]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::sub(zeros({2}), zeros({2}, ag::DType::f64)), "sub: dtypes differ: [2] float32 and [2] float64",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::div(zeros({2}), ag::from_indices({1, 2}, {2})),
                       "div: dtypes differ: [2] float32 and [2] int64", ag::Error);
  CHECK_THROWS_WITH_AS(ag::exp(ag::from_indices({1}, {1})), "exp: expected a float32 or float64 tensor, got int64",
                       ag::Error);
}

TEST_CASE("reductions and shape ops name the dimension and shape") {
  CHECK_THROWS_WITH_AS(ag::sum(zeros({2, 3}), 2), "sum: dimension 2 is out of range for a tensor of rank 2", ag::Error);
  CHECK_THROWS_WITH_AS(ag::max(zeros({2, 3}), -3), "max: dimension -3 is out of range for a tensor of rank 2", ag::Error);
  CHECK_THROWS_WITH_AS(ag::reshape(zeros({2, 3}), {4, 2}), "reshape: cannot reshape [2,3] (6 elements) into [4,2]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::reshape(zeros({2, 3}), {-1, -1}), "reshape: more than one -1 in target shape [-1,-1]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::reshape(zeros({2, 3}), {4, -1}), "reshape: cannot reshape [2,3] into [4,-1]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::expand(zeros({2, 3}), {3, 3}), "expand: shapes do not broadcast: [2,3] and [3,3]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::sum_to(zeros({2, 3}), {4}), "sum_to: shapes do not broadcast: [4] and [2,3]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::mean(zeros({0})), "mean: mean of an empty tensor of shape [0]", ag::Error);
}

TEST_CASE("pick and the losses name the shapes and the bad index") {
  CHECK_THROWS_WITH_AS(ag::pick(zeros({2, 3}), ag::from_indices({0, 3}, {2})),
                       "pick: index 3 at row 1 is out of range for x [2,3]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::pick(zeros({2, 3}), ag::from_indices({0}, {1})),
                       "pick: expects x [N,C] and an int64 index [N], got x [2,3] and index [1] int64", ag::Error);
  CHECK_THROWS_WITH_AS(ag::cross_entropy(zeros({4, 10}), zeros({4})),
                       "cross_entropy: expects scores [N,C] and an int64 target [N], got [4,10] and [4] float32",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::cross_entropy(zeros({2, 10}), ag::from_indices({3, 10}, {2})),
                       "cross_entropy: target 10 at row 1 is out of range for scores [2,10]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::cross_entropy(zeros({2, 10}), ag::from_indices({-1, 0}, {2})),
                       "cross_entropy: target -1 at row 0 is out of range for scores [2,10]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::mse_loss(zeros({2}), zeros({3})), "mse_loss: prediction [2] and target [3] differ in shape",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::rbf_map_loss(zeros({1, 2}), ag::from_indices({0}, {1}), 0.0),
                       "rbf_map_loss: the constant j must be finite and > 0, got 0", ag::Error);
}

TEST_CASE("linear names the shapes it got") {
  CHECK_THROWS_WITH_AS(ag::linear(zeros({64, 120}), zeros({84, 100}), zeros({84})),
                       "linear: expects x [N,in] and weight [out,in], got x [64,120] and weight [84,100]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::linear(zeros({64, 120}), zeros({84, 120}), zeros({10})),
                       "linear: bias [10] does not match weight [84,120]: expected [84]", ag::Error);
}
