// predict_lenet: classifies pictures of handwritten digits with a trained run's model.
// Usage: predict_lenet --run DIR [--show] [--json] IMAGE...   (predict_lenet --help)
//
// Exit status: 0 every picture classified; 1 a picture could not be read (the others are still classified)
// or the run cannot be loaded; 2 a usage or config error.
#include <fmt/format.h>

#include <cstddef>
#include <limits>

#include "apps/inspect/trained_run.h"
#include "apps/predict/predict.h"
#include "apps/train/options.h"

namespace {

constexpr const char* kUsage =
    "usage: predict_lenet --run DIR [--show] [--json] [--set key.path=value ...] IMAGE...\n"
    "  Classifies each IMAGE (PNG, PGM or PPM; any size, grey or colour, dark ink on light paper or the reverse)\n"
    "  with the model in DIR/checkpoint.bin. Each picture is made into an MNIST digit first: the digit's\n"
    "  bounding box scaled into 20x20, centred by its centre of mass in 28x28.\n"
    "  --show  also prints the input the network was fed (28x28, or 32x32 for lecun1998) as text art\n"
    "  --json  prints a JSON array, one object per image ({file, error} for a picture that failed)\n"
    "  --set   overrides a key of DIR/config.json\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace ag::app;
  return run_app("predict_lenet", [&] {
    const ParsedArguments args = parse_arguments(argc, argv,
                                                 {{"--run", "the run folder"},
                                                  {"--show", ""},
                                                  {"--json", ""},
                                                  {"--set", "key.path=value", true},
                                                  {"--help", ""}},
                                                 {std::numeric_limits<std::size_t>::max(), "see --help"});
    if (args.has("--help")) {
      fmt::print("{}", kUsage);
      return 0;
    }
    if (args.value("--run").empty()) throw ConfigError(std::string("--run DIR is required\n") + kUsage);
    if (args.positional.empty()) throw ConfigError(std::string("at least one IMAGE is required\n") + kUsage);
    const bool show = args.has("--show"), json = args.has("--json");
    TrainedRun run = load_trained_run(args.value("--run"), args.all("--set"));
    const auto predictions = predict_files(run, args.positional);
    // The network's input values of paper and of full ink, for the text art.
    const double lo = run.setup.norm.offset, hi = run.setup.norm.offset + run.setup.norm.scale;
    int status = 0;
    nlohmann::json all = nlohmann::json::array();
    for (const auto& p : predictions) {
      if (!p.error.empty()) {
        fmt::print(stderr, "predict_lenet: {}\n", p.error);
        status = 1;
      } else if (!json) {
        fmt::print("{}", format_prediction(p, run.setup.loss, show, lo, hi));
      }
      if (json) all.push_back(prediction_json(p, run.setup.loss, show, lo, hi));
    }
    if (json) fmt::print("{}\n", all.dump(2));
    return status;
  });
}
