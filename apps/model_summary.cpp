// model_summary: prints a LeNet-5 variant's layers, output shapes, parameter and connection counts, and
// optionally writes the autograd graph of one forward pass and its loss as Graphviz DOT.
// Usage: model_summary [lecun1998|modern] [--dot FILE]
#include <fmt/format.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/autograd.h"
#include "models/lenet5.h"
#include "nn/loss.h"

namespace {

constexpr const char* kUsage =
    "usage: model_summary [lecun1998|modern] [--dot FILE]\n"
    "  Prints the model's layers with their output shapes (per sample), trainable parameters and\n"
    "  connections (multiply-adds per sample). The variant defaults to lecun1998.\n"
    "  --dot FILE  also writes the graph of one forward pass and its loss (MAP for lecun1998,\n"
    "              cross-entropy for modern) on one random sample, as Graphviz DOT (dot -Tsvg FILE)\n";

/// Writes the DOT of loss(model(x)) for one random sample x [1,1,side,side] to `path`, parameters named.
void write_graph(ag::nn::Sequential& model, ag::models::Variant variant, const std::string& path) {
  ag::Generator gen(1);
  const std::int64_t side = ag::models::input_side(variant);
  const ag::Tensor x = ag::uniform({1, 1, side, side}, -1, 1, gen);
  const ag::Tensor target = ag::from_indices({3}, {1});
  const bool paper = variant == ag::models::Variant::lecun1998;
  const ag::Tensor loss =
      ag::nn::compute_loss(paper ? ag::nn::LossKind::map : ag::nn::LossKind::cross_entropy, model(x), target, 1.0);
  std::vector<std::pair<std::string, ag::Tensor>> names;
  for (const auto& p : model.parameters()) names.emplace_back(p.name, p.value);
  std::ofstream out(path);
  out << ag::to_dot(loss, names);
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  std::string variant_text = "lecun1998", dot_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    } else if (arg == "--dot" && i + 1 < argc) {
      dot_path = argv[++i];
    } else if (!arg.starts_with("-")) {
      variant_text = arg;
    } else {
      fmt::print(stderr, "model_summary: unexpected argument '{}'\n{}", arg, kUsage);
      return 2;
    }
  }
  try {
    const ag::models::Variant variant = ag::models::parse_variant(variant_text);
    ag::Generator gen(0);
    auto model = ag::models::make_model(variant, gen);
    const std::int64_t side = ag::models::input_side(variant);
    fmt::print("LeNet-5 ({}), input [1,{},{}]\n\n{}", ag::models::variant_name(variant), side, side,
               ag::nn::summary_table(*model, {1, 1, side, side}));
    if (!dot_path.empty()) {
      write_graph(*model, variant, dot_path);
      fmt::print("\nwrote the graph of one forward pass and its loss to {}\n", dot_path);
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "model_summary: {}\n", e.what());
    return 1;
  }
}
