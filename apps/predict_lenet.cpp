// predict_lenet: classifies pictures of handwritten digits with a trained run's model.
// Usage: predict_lenet --run DIR [--show] [--json] IMAGE...   (predict_lenet --help)
//
// Exit status: 0 every picture classified; 1 a picture could not be read (the others are still classified)
// or the run cannot be loaded; 2 a usage or config error.
#include <fmt/format.h>

#include <cstdio>

#include "apps/inspect/trained_run.h"
#include "apps/predict/predict.h"

namespace {

constexpr const char* kUsage =
    "usage: predict_lenet --run DIR [--show] [--json] [--set key.path=value ...] IMAGE...\n"
    "  Classifies each IMAGE (PNG, PGM or PPM; any size, grey or colour, dark ink on light paper or the reverse)\n"
    "  with the model in DIR/checkpoint.bin. Each picture is made into an MNIST digit first: the digit's\n"
    "  bounding box scaled into 20x20, centred by its centre of mass in 28x28.\n"
    "  --show  also prints the input the network was fed (28x28, or 32x32 for lecun1998) as text art\n"
    "  --json  prints a JSON array, one object per image ({file, error} for a picture that failed)\n"
    "  --set   overrides a key of DIR/config.json\n";

struct Options {
  std::string run_dir;
  std::vector<std::string> files, overrides;
  bool show = false, json = false;
};

/// Returns the options, or nothing after printing the usage (help) or a usage error (sets `status`).
std::optional<Options> parse(int argc, char** argv, int& status) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", kUsage);
      status = 0;
      return std::nullopt;
    }
    if (arg == "--run" && has_value) o.run_dir = argv[++i];
    else if (arg == "--set" && has_value) o.overrides.emplace_back(argv[++i]);
    else if (arg == "--show") o.show = true;
    else if (arg == "--json") o.json = true;
    else if (arg.starts_with("--")) {
      fmt::print(stderr, "predict_lenet: unexpected argument '{}'\n{}", arg, kUsage);
      status = 2;
      return std::nullopt;
    } else o.files.push_back(arg);
  }
  if (o.run_dir.empty() || o.files.empty()) {
    fmt::print(stderr, "predict_lenet: {} required\n{}", o.run_dir.empty() ? "--run DIR is" : "at least one IMAGE is", kUsage);
    status = 2;
    return std::nullopt;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ag::app;
  int status = 0;
  const auto options = parse(argc, argv, status);
  if (!options) return status;
  try {
    TrainedRun run = load_trained_run(options->run_dir, options->overrides);
    const auto predictions = predict_files(run, options->files);
    // The network's input values of paper and of full ink, for the text art.
    const double lo = run.setup.norm.offset, hi = run.setup.norm.offset + run.setup.norm.scale;
    nlohmann::json all = nlohmann::json::array();
    for (const auto& p : predictions) {
      if (!p.error.empty()) {
        fmt::print(stderr, "predict_lenet: {}\n", p.error);
        status = 1;
      } else if (!options->json) {
        fmt::print("{}", format_prediction(p, run.setup.loss, options->show, lo, hi));
      }
      if (options->json) all.push_back(prediction_json(p, run.setup.loss, options->show, lo, hi));
    }
    if (options->json) fmt::print("{}\n", all.dump(2));
    return status;
  } catch (const ConfigError& e) {
    fmt::print(stderr, "predict_lenet: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "predict_lenet: {}\n", e.what());
    return 1;
  }
}
