// Graph export: the exact DOT text of a small expression, leaves named or not, deep graphs, errors.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <algorithm>

using ag::Tensor;

namespace {

Tensor leaf(const std::vector<double>& values) {
  Tensor t = ag::from_vector(values, {static_cast<std::int64_t>(values.size())}, ag::DType::f64);
  t.requires_grad_();
  return t;
}

}  // namespace

TEST_CASE("graph_dot: one vertex per op and per leaf, edges input -> op labelled by slot, named parameters") {
  Tensor w = leaf({0.5, -1});
  Tensor x = ag::from_vector({1, 2}, {2}, ag::DType::f64);
  Tensor y = ag::sum(w * x + w);  // w is used twice: one vertex, two edges
  CHECK(ag::to_dot(y, {{"layer.weight", w}}) ==
        "digraph autograd {\n"
        "  n0 [shape=box, label=\"sum\\n[] float64\"];\n"
        "  n1 -> n0;\n"
        "  n1 [shape=box, label=\"add\\n[2] float64\"];\n"
        "  n2 -> n1 [label=\"0\"];\n"
        "  n3 -> n1 [label=\"1\"];\n"
        "  n2 [shape=box, label=\"mul\\n[2] float64\"];\n"
        "  n3 -> n2 [label=\"0\"];\n"
        "  n4 -> n2 [label=\"1\"];\n"
        "  n3 [shape=ellipse, style=filled, fillcolor=lightblue, label=\"layer.weight\\n[2] float64\\nrequires grad\"];\n"
        "  n4 [shape=ellipse, label=\"[2] float64\\nno grad\"];\n"
        "}\n");
  // Without names, leaves show their shape only; a leaf root is a graph of one vertex.
  CHECK(ag::to_dot(ag::tanh(w)) ==
        "digraph autograd {\n"
        "  n0 [shape=box, label=\"tanh\\n[2] float64\"];\n"
        "  n1 -> n0;\n"
        "  n1 [shape=ellipse, style=filled, fillcolor=lightblue, label=\"[2] float64\\nrequires grad\"];\n"
        "}\n");
  CHECK(ag::to_dot(x) == "digraph autograd {\n  n0 [shape=ellipse, label=\"[2] float64\\nno grad\"];\n}\n");
}

TEST_CASE("graph_dot: names are escaped, released ops are marked") {
  Tensor w = leaf({1});
  Tensor y = ag::sum(w * 2.0);
  y.backward();
  CHECK(ag::to_dot(y, {{"say \"hi\"", w}}) ==
        "digraph autograd {\n"
        "  n0 [shape=box, label=\"sum\\n[] float64\\n(released)\"];\n"
        "}\n");
  Tensor z = w * 2.0;
  CHECK(ag::to_dot(z, {{"say \"hi\" \\ bye", w}}).find("label=\"say \\\"hi\\\" \\\\ bye\\n[1] float64") != std::string::npos);
}

TEST_CASE("graph_dot: a chain of 100,000 ops is exported without recursion") {
  Tensor x = leaf({1});
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y + 1.0;
  const std::string dot = ag::to_dot(y);
  CHECK(std::count(dot.begin(), dot.end(), '\n') == 2 + 100001 + 100000);
  CHECK(dot.find("  n100000 [shape=ellipse") != std::string::npos);
}

TEST_CASE("graph_dot: an undefined root is an error") {
  CHECK_THROWS_WITH_AS(ag::to_dot(Tensor()), "to_dot: the root tensor is undefined", ag::Error);
}
