// LeNet-5 as published: layer by layer parameter and connection counts, shapes, digit codes.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <models/digit_codes.h>
#include <models/lenet5.h>

#include <map>

TEST_CASE("lecun1998 has the paper's parameter and connection counts, layer by layer") {
  ag::Generator gen(1);
  auto net = ag::models::lecun1998(gen);
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_layer;
  for (const auto& row : ag::nn::summarize(*net, {1, 1, 32, 32})) by_layer[row.name] = {row.parameters, row.connections};
  CHECK(by_layer["c1"] == std::pair<std::int64_t, std::int64_t>{156, 122304});
  CHECK(by_layer["s2"] == std::pair<std::int64_t, std::int64_t>{12, 5880});
  CHECK(by_layer["c3"] == std::pair<std::int64_t, std::int64_t>{1516, 151600});
  CHECK(by_layer["s4"] == std::pair<std::int64_t, std::int64_t>{32, 2000});
  CHECK(by_layer["c5"] == std::pair<std::int64_t, std::int64_t>{48120, 48120});
  CHECK(by_layer["f6"] == std::pair<std::int64_t, std::int64_t>{10164, 10164});
  CHECK(by_layer["output"] == std::pair<std::int64_t, std::int64_t>{0, 840});
  CHECK(net->trainable_count() == 60000);
  CHECK(net->connections({1, 1, 32, 32}, {}) == 340908);
}

TEST_CASE("lecun1998 maps [N,1,32,32] to ten squared distances; modern maps [N,1,28,28] to ten logits") {
  ag::Generator gen(2);
  auto paper = ag::models::lecun1998(gen);
  const ag::Tensor out = paper->forward(ag::uniform({3, 1, 32, 32}, -0.1, 1.175, gen));
  CHECK(out.shape() == ag::Shape{3, 10});
  for (double d : out.to_vector()) CHECK(d >= 0.0);
  auto modern = ag::models::modern(gen);
  CHECK(modern->forward(ag::zeros({2, 1, 28, 28})).shape() == ag::Shape{2, 10});
  CHECK(modern->trainable_count() == 156 + 2416 + 48120 + 10164 + 850);
}

TEST_CASE("the summary table lists each layer's output shape and the totals") {
  ag::Generator gen(3);
  auto net = ag::models::lecun1998(gen);
  const std::string table = ag::nn::summary_table(*net, {1, 1, 32, 32});
  CHECK(table.find("c3       Conv2d(6->16, 5x5, table 16x6, then scaled_tanh)") != std::string::npos);
  CHECK(table.find("[16,10,10]") != std::string::npos);
  CHECK(table.find("total") != std::string::npos);
  CHECK(table.find("60000") != std::string::npos);
  CHECK(table.find("340908") != std::string::npos);
}

TEST_CASE("the digit codes are +-1 bitmaps of 7x12, all distinct and at least 8 positions apart") {
  const ag::Tensor codes = ag::models::digit_codes();
  CHECK(codes.shape() == ag::Shape{10, 84});
  for (double v : codes.to_vector()) CHECK((v == 1.0 || v == -1.0));
  for (std::int64_t a = 0; a < 10; ++a)
    for (std::int64_t b = a + 1; b < 10; ++b) {
      int differ = 0;
      for (std::int64_t j = 0; j < 84; ++j) differ += codes.at({a, j}) != codes.at({b, j}) ? 1 : 0;
      CAPTURE(a);
      CAPTURE(b);
      CHECK(differ >= 8);
    }
}
