// conv2d's and ConnectionTable's argument checks: each bad argument is refused with an error that names the op, what
// is wrong and the shapes.
#include <autograd/autograd.h>
#include <models/connection_table.h>
#include <doctest/doctest.h>

#include "lenet_ops/lenet_ops_support.h"

using namespace lenet_test;

TEST_CASE("conv2d: bad arguments name the op and the shapes") {
  using ag::zeros;
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({2, 3, 32}), zeros({6, 3, 5, 5})),
                       "conv2d: expects input [N,C,H,W] and weight [O,C,kh,kw], got input [2,3,32], weight [6,3,5,5]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({2, 3, 32, 32}), zeros({16, 6, 5, 5})),
                       "conv2d: input has 3 channels but weight expects 6: input [2,3,32,32], weight [16,6,5,5]",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 5, 5})),
                       "conv2d: kernel 5x5 is larger than the padded input 4x4 (padding 0): input [1,1,4,4], weight "
                       "[1,1,5,5]",
                       ag::Error);
  ag::Conv2dOptions pad1;
  pad1.padding = 1;
  CHECK(ag::conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 5, 5}), Tensor(), pad1).shape() == Shape{1, 1, 2, 2});
  ag::Conv2dOptions stride0;
  stride0.stride = 0;
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({1, 1, 8, 8}), zeros({2, 1, 3, 3}), Tensor(), stride0),
                       "conv2d: stride must be at least 1, got 0: input [1,1,8,8], weight [2,1,3,3]", ag::Error);
  ag::Conv2dOptions negative;
  negative.padding = -1;
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({1, 1, 8, 8}), zeros({2, 1, 3, 3}), Tensor(), negative),
                       "conv2d: padding must be at least 0, got -1: input [1,1,8,8], weight [2,1,3,3]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({1, 1, 8, 8}), zeros({2, 1, 3, 3}, DType::f64)),
                       "conv2d: dtypes differ: input [1,1,8,8] float32, weight [2,1,3,3] float64", ag::Error);
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({1, 1, 8, 8}), zeros({2, 1, 3, 3}), zeros({2}, DType::f64)),
                       "conv2d: dtypes differ: input [1,1,8,8] float32, weight [2,1,3,3] float32, bias [2] float64",
                       ag::Error);
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({1, 1, 8, 8}), zeros({2, 1, 3, 3}), zeros({3})),
                       "conv2d: bias [3] does not match weight [2,1,3,3]: expects [2]", ag::Error);
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({1, 1, 8, 8}), zeros({0, 1, 3, 3})),
                       "conv2d: weight [0,1,3,3] has an empty dimension", ag::Error);
  CHECK_THROWS_WITH_AS(ag::conv2d(ag::from_indices({1, 2, 3, 4}, {1, 1, 2, 2}), ag::from_indices({1}, {1, 1, 1, 1})),
                       "conv2d: expects float32 or float64 tensors, got int64: input [1,1,2,2], weight [1,1,1,1]",
                       ag::Error);
  ag::Conv2dOptions c3;
  c3.table = ag::models::lenet5_c3_table();
  CHECK_THROWS_WITH_AS(ag::conv2d(zeros({2, 3, 14, 14}), zeros({16, 3, 5, 5}), Tensor(), c3),
                       "conv2d: connection table is 16x6 but weight [16,3,5,5] needs 16x3", ag::Error);
}

TEST_CASE("ConnectionTable: invalid tables are refused") {
  CHECK_THROWS_WITH_AS(ag::ConnectionTable(2, 2, {1, 0, 0, 0}),
                       "ConnectionTable: output map 1 reads no input map in the 2x2 table", ag::Error);
  CHECK_THROWS_WITH_AS(ag::ConnectionTable(2, 3, {1, 0, 1}),
                       "ConnectionTable: 3 entries for a 2x3 table, which needs 6", ag::Error);
  CHECK_THROWS_WITH_AS(ag::ConnectionTable(1, 2, {1, 2}),
                       "ConnectionTable: entry [0,1] of the 1x2 table is 2; entries must be 0 or 1", ag::Error);
  CHECK_THROWS_WITH_AS(ag::ConnectionTable(0, 2, {}), "ConnectionTable: sizes must be at least 1, got 0x2", ag::Error);
  CHECK(ag::ConnectionTable(1, 1, {1}).size_str() == "1x1");
}
