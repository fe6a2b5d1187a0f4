// model_summary: prints a LeNet-5 variant's layers, output shapes, parameter and connection counts, and
// optionally writes the autograd graph of one forward pass and its loss as Graphviz DOT.
// Usage: model_summary [lecun1998|modern] [--dot FILE]
//
// Exit status: 0 done; 1 a runtime fault (the DOT file cannot be written); 2 a usage error.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "apps/train/file_output.h"
#include "apps/train/options.h"
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
  ag::app::write_output_file(path, ag::to_dot(loss, names));
}

// The variant named on the command line; an unknown one is a usage error.
ag::models::Variant variant_argument(const ag::app::ParsedArguments& args) {
  if (args.positional.empty()) return ag::models::Variant::lecun1998;
  try {
    return ag::models::parse_variant(args.positional.front());
  } catch (const ag::Error&) {
    throw ag::app::ConfigError(
        fmt::format("unknown variant \"{}\"; expected lecun1998 or modern\n{}", args.positional.front(), kUsage));
  }
}

}  // namespace

int main(int argc, char** argv) {
  return ag::app::run_app("model_summary", [&] {
    const ag::app::ParsedArguments args =
        ag::app::parse_arguments(argc, argv, {{"--dot", "the file name"}, {"--help", ""}}, {1, "see --help"});
    if (args.has("--help")) {
      fmt::print("{}", kUsage);
      return 0;
    }
    const ag::models::Variant variant = variant_argument(args);
    ag::Generator gen(0);
    auto model = ag::models::make_model(variant, gen);
    const std::int64_t side = ag::models::input_side(variant);
    fmt::print("LeNet-5 ({}), input [1,{},{}]\n\n{}", ag::models::variant_name(variant), side, side,
               ag::nn::summary_table(*model, {1, 1, side, side}));
    if (args.has("--dot")) {
      write_graph(*model, variant, args.value("--dot"));
      fmt::print("\nwrote the graph of one forward pass and its loss to {}\n", args.value("--dot"));
    }
    return 0;
  });
}
