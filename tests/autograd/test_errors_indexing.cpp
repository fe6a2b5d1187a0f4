// Error messages of the slicing, indexing and joining ops, permute and softmax: each names the op, the
// argument at fault and every shape involved. Pinned here.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using ag::from_indices;
using ag::Tensor;
using ag::zeros;

TEST_CASE("slice, narrow, select and unslice name the range and the shape") {
  CHECK_THROWS_WITH_AS(ag::slice(zeros({2, 4}), 1, 3, 2),
                       "slice: start 3 and end 2 do not fit dimension 1 of x [2,4] (0 <= start <= end <= 4, negatives "
                       "counting from the end)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::slice(zeros({2, 4}), 1, 0, 5),
                       "slice: start 0 and end 5 do not fit dimension 1 of x [2,4] (0 <= start <= end <= 4, negatives "
                       "counting from the end)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::slice(zeros({2, 4}), 0, -3, 1),
                       "slice: start -3 and end 1 do not fit dimension 0 of x [2,4] (0 <= start <= end <= 2, negatives "
                       "counting from the end)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::slice(zeros({2, 4}), 1, 0, 4, 0),
                       "slice: step must be at least 1, got 0 (dimension 1 of x [2,4])", ag::Error);
  CHECK_THROWS_WITH_AS(ag::slice(zeros({2, 4}), 2, 0, 1), "slice: dimension 2 is out of range for x [2,4] (rank 2)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::slice(Tensor(), 0, 0, 1), "slice: x must be a defined tensor", ag::Error);
  CHECK_THROWS_WITH_AS(ag::narrow(zeros({2, 4}), 1, 3, 2),
                       "narrow: start 3 and length 2 do not fit dimension 1 of x [2,4] (0 <= start, start + length <= 4, "
                       "a negative start counting from the end)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::narrow(zeros({2, 4}), -1, -5, 1),
                       "narrow: start -5 and length 1 do not fit dimension -1 of x [2,4] (0 <= start, start + length <= "
                       "4, a negative start counting from the end)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::narrow(zeros({2, 4}), 1, 1, -1),
                       "narrow: start 1 and length -1 do not fit dimension 1 of x [2,4] (0 <= start, start + length <= 4, "
                       "a negative start counting from the end)",
                       ag::Error);
  // A length that would overflow start + length is refused, not wrapped round.
  CHECK_THROWS_AS(ag::narrow(zeros({2, 4}), 1, 1, std::numeric_limits<std::int64_t>::max()), ag::Error);
  CHECK_THROWS_WITH_AS(ag::select(zeros({2, 4}), 0, 2),
                       "select: index 2 is out of range for dimension 0 of x [2,4] (-2 <= index < 2)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::select(zeros({2, 4}), 1, -5),
                       "select: index -5 is out of range for dimension 1 of x [2,4] (-4 <= index < 4)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::select(zeros({}), 0, 0), "select: dimension 0 is out of range for x [] (rank 0)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::unslice(zeros({2, 3}), {2, 4}, 1, 0, 4, 2),
                       "unslice: src [2,3] does not fit entries 0..4 step 2 of dimension 1 of shape [2,4] (expected [2,2])",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::unslice(zeros({2, 3}), {2, 4}, 1, 0, 6),
                       "unslice: start 0 and end 6 do not fit dimension 1 of shape [2,4] (0 <= start <= end <= 4, "
                       "negatives counting from the end)",
                       ag::Error);
}

TEST_CASE("index_select and index_add name the bad index, where it is and the shapes") {
  CHECK_THROWS_WITH_AS(ag::index_select(zeros({3, 4}), 0, from_indices({0, 3}, {2})),
                       "index_select: index[1] = 3 is out of range for dimension 0 of x [3,4] (0 <= index < 3)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_select(zeros({3, 4}), 1, from_indices({-1}, {1})),
                       "index_select: index[0] = -1 is out of range for dimension 1 of x [3,4] (0 <= index < 4)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_select(zeros({3, 4}), 0, zeros({2})),
                       "index_select: expects an int64 index [K], got [2] float32", ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_select(zeros({3, 4}), 0, from_indices({0, 1}, {1, 2})),
                       "index_select: expects an int64 index [K], got [1,2] int64", ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_select(zeros({3, 4}), 0, Tensor()), "index_select: index must be a defined tensor",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_select(zeros({3, 4}), -3, from_indices({0}, {1})),
                       "index_select: dimension -3 is out of range for x [3,4] (rank 2)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_add(zeros({3, 4}), 1, from_indices({0, 1}, {2}), zeros({3, 3})),
                       "index_add: expects source [3,2] (x's shape with the index's length along dim), got x [3,4], "
                       "index [2], source [3,3]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_add(zeros({3, 4}), 1, from_indices({0, 1}, {2}), Tensor()),
                       "index_add: expects source [3,2] (x's shape with the index's length along dim), got x [3,4], "
                       "index [2], source undefined",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_add(zeros({3, 4}), 1, from_indices({0, 1}, {2}), zeros({3, 2}, ag::DType::f64)),
                       "index_add: dtypes differ: [3,4] float32 and [3,2] float64", ag::Error);
  CHECK_THROWS_WITH_AS(ag::index_add(zeros({3, 4}), 0, from_indices({5}, {1}), zeros({1, 4})),
                       "index_add: index[0] = 5 is out of range for dimension 0 of x [3,4] (0 <= index < 3)", ag::Error);
}

TEST_CASE("gather and scatter_add name the index's shape, a bad value and where it is") {
  CHECK_THROWS_WITH_AS(ag::gather(zeros({2, 3}), 1, from_indices({0, 1, 2, 0, 1, 2, 0, 1, 2}, {3, 3})),
                       "gather: expects an int64 index of x's rank, no larger than x along every dimension but 1, got x "
                       "[2,3] and index [3,3] int64",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::gather(zeros({2, 3}), 1, from_indices({0, 1}, {2})),
                       "gather: expects an int64 index of x's rank, no larger than x along every dimension but 1, got x "
                       "[2,3] and index [2] int64",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::gather(zeros({2, 3}), 1, zeros({2, 1})),
                       "gather: expects an int64 index of x's rank, no larger than x along every dimension but 1, got x "
                       "[2,3] and index [2,1] float32",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::gather(zeros({2, 3}), -1, from_indices({0, 3}, {1, 2})),
                       "gather: index[0,1] = 3 is out of range for dimension -1 of x [2,3] (0 <= index < 3)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::gather(zeros({2, 3}), 2, from_indices({0}, {1, 1})),
                       "gather: dimension 2 is out of range for x [2,3] (rank 2)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::scatter_add(zeros({2, 3}), 1, from_indices({0, 2}, {1, 2}), zeros({2, 2})),
                       "scatter_add: expects src [1,2] (the index's shape), got x [2,3], index [1,2], src [2,2]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::scatter_add(zeros({2, 3}), 0, from_indices({0, 2}, {1, 2}), zeros({1, 2})),
                       "scatter_add: index[0,1] = 2 is out of range for dimension 0 of x [2,3] (0 <= index < 2)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::scatter_add(zeros({2, 3}), 1, from_indices({0, 2}, {1, 2}), zeros({1, 2}, ag::DType::f64)),
                       "scatter_add: dtypes differ: [2,3] float32 and [1,2] float64", ag::Error);
}

TEST_CASE("cat and stack name the first tensor and the one at fault") {
  CHECK_THROWS_WITH_AS(ag::cat({}, 0), "cat: expects at least one tensor", ag::Error);
  CHECK_THROWS_WITH_AS(ag::cat({zeros({2}), Tensor()}, 0), "cat: tensor 1 is undefined", ag::Error);
  CHECK_THROWS_WITH_AS(ag::cat({zeros({2, 3}), zeros({2, 1}), zeros({3, 3})}, 1),
                       "cat: expects tensors of one rank whose sizes differ only along dimension 1, got tensor 0 [2,3] "
                       "and tensor 2 [3,3]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::cat({zeros({2, 3}), zeros({2, 3, 1})}, 0),
                       "cat: expects tensors of one rank whose sizes differ only along dimension 0, got tensor 0 [2,3] "
                       "and tensor 1 [2,3,1]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::cat({zeros({2}), zeros({2}, ag::DType::f64)}, 0),
                       "cat: expects tensors of one dtype, got tensor 0 [2] float32 and tensor 1 [2] float64", ag::Error);
  CHECK_THROWS_WITH_AS(ag::cat({zeros({2}), zeros({3})}, 1), "cat: dimension 1 is out of range for tensor 0 [2] (rank 1)",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::cat({zeros({})}, 0), "cat: dimension 0 is out of range for tensor 0 [] (rank 0)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::stack({zeros({2, 3}), zeros({2, 3}), zeros({3, 2})}, 0),
                       "stack: expects tensors of one shape, got tensor 0 [2,3] and tensor 2 [3,2]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::stack({zeros({2, 3})}, 3),
                       "stack: dimension 3 is out of range for the result of stacking tensors [2,3] (rank 3)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::stack({zeros({2, 3})}, -4),
                       "stack: dimension -4 is out of range for the result of stacking tensors [2,3] (rank 3)", ag::Error);
  CHECK_THROWS_WITH_AS(ag::stack({}, 0), "stack: expects at least one tensor", ag::Error);
}

TEST_CASE("permute and softmax name the dimensions and the shape") {
  const std::string not_a_permutation = "are not a permutation of the 2 dimensions of x [2,3] (each of 0..1 once, or "
                                        "negative counting from the end)";
  CHECK_THROWS_WITH_AS(ag::permute(zeros({2, 3}), {1, 1}), ("permute: dims [1,1] " + not_a_permutation).c_str(),
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::permute(zeros({2, 3}), {0}), ("permute: dims [0] " + not_a_permutation).c_str(), ag::Error);
  CHECK_THROWS_WITH_AS(ag::permute(zeros({2, 3}), {0, 2}), ("permute: dims [0,2] " + not_a_permutation).c_str(),
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::permute(zeros({2, 3}), {-1, 1}), ("permute: dims [-1,1] " + not_a_permutation).c_str(),
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::softmax(from_indices({1, 2}, {2}), 0),
                       "softmax: expected a float32 or float64 tensor, got [2] int64", ag::Error);
  CHECK_THROWS_WITH_AS(ag::softmax(zeros({2}), 1), "softmax: dimension 1 is out of range for x [2] (rank 1)", ag::Error);
}

TEST_CASE("an index written in place after the op used it is refused by backward") {
  Tensor x = ag::ones({3, 2});
  x.requires_grad_();
  Tensor index = from_indices({2, 0}, {2});
  Tensor y = ag::sum(ag::index_select(x, 0, index));
  index.set({0}, 1);
  CHECK_THROWS_WITH_AS(y.backward(),
                       "index_select: input 1 [2] was written in place after the op used it (version 2 now, 1 when the "
                       "op ran); its backward would use the new values: write into a copy, or before the op",
                       ag::Error);
}

TEST_CASE("softmax's output written in place is refused by backward; slice's input may be written") {
  Tensor x = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64);
  x.requires_grad_();
  Tensor y = ag::softmax(x, 0);
  Tensor loss = ag::sum(y * 2.0);  // neither mul by a scalar nor sum reads y's values
  y.mutable_data<double>()[0] = 0;
  CHECK_THROWS_WITH_AS(loss.backward(),
                       "softmax: its saved output [3] was written in place after the op used it (version 2 now, 1 when "
                       "the op ran); its backward would use the new values: write into a copy, or before the op",
                       ag::Error);
  // slice's rule reads no values, only x's shape: writing into x after the op changes nothing it needs.
  Tensor w = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64);
  w.requires_grad_();
  Tensor z = w * 1.0;
  Tensor s = ag::sum(ag::slice(z, 0, 1, 3));
  z.set({0}, 5);
  s.backward();
  CHECK(w.grad().to_vector() == std::vector<double>{0, 1, 1});
}

TEST_CASE("a create_graph pass goes through these ops: their rules are recorded ones") {
  Tensor x = ag::from_vector({1, 2, 3}, {3}, ag::DType::f64);
  x.requires_grad_();
  const Tensor g = ag::grad(ag::sum(ag::square(ag::slice(x, 0, 1, 3))), {x}, Tensor(), false, /*create_graph=*/true)[0];
  REQUIRE(g.requires_grad());
  CHECK(g.to_vector() == std::vector<double>{0, 4, 6});
  CHECK(ag::grad(ag::sum(g), {x})[0].to_vector() == std::vector<double>{0, 2, 2});  // d2/dx2 of x^2 on the slice
}
