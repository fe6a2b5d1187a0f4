// Tests of train_lenet's configuration layer: the schema, defaults, typed settings, overrides, the command
// line, the docs and the shipped configs (the error texts are in test_config_errors.cpp).
#include <cstdlib>
#include <set>

#include "apps/config_test_support.h"

using namespace config_test;
using ag::app::ConfigError;
using ag::app::load_config;
using nlohmann::json;

TEST_CASE("the schema: unique keys, defaults that validate, a doc line each") {
  const auto& schema = ag::app::config_schema();
  CHECK(schema.size() >= 26);
  std::set<std::string> seen;
  for (const ag::app::ConfigKey& key : schema) {
    CAPTURE(key.path);
    CHECK(seen.insert(key.path).second);
    CHECK(!key.doc.empty());
    CHECK(key.doc.find('\n') == std::string::npos);
    CHECK(ag::app::find_config_key(key.path) == &key);
  }
  CHECK(ag::app::find_config_key("train.epocs") == nullptr);
  CHECK(ag::app::find_config_key("train") == nullptr);
  // Every default passes its own validation: the defaults alone resolve.
  const json defaults = ag::app::default_config();
  for (const ag::app::ConfigKey& key : schema) {
    CAPTURE(key.path);
    CHECK_NOTHROW(at(defaults, key.path));
  }
}

TEST_CASE("describe_expected names the type and the range") {
  const auto expected = [](const char* path) { return ag::app::describe_expected(*ag::app::find_config_key(path)); };
  CHECK(expected("train.batch_size") == "an integer in [1, 60000]");
  CHECK(expected("train.seed") == "an integer >= 0");
  CHECK(expected("train.optimizer.lr") == "a number > 0");
  CHECK(expected("train.optimizer.momentum") == "a number in [0, 1)");
  CHECK(expected("train.schedule.gamma") == "a number in (0, 1]");
  CHECK(expected("train.anomaly_detection") == "true or false");
  CHECK(expected("output.dir") == "a non-empty string");
  CHECK(expected("model.variant") == "one of \"lecun1998\", \"modern\"");
}

TEST_CASE("defaults: every key present, auto loss and data dir resolved") {
  const json config = ag::app::default_config();
  CHECK(at(config, "model.variant") == "lecun1998");
  CHECK(at(config, "model.loss") == "map");
  CHECK(at(config, "model.map_j") == 1.0);
  CHECK(at(config, "data.dataset") == "mnist");
  CHECK(at(config, "data.dir") == "data/mnist");
  CHECK(at(config, "train.epochs") == 20);
  CHECK(at(config, "train.threads") == 1);
  CHECK(at(config, "train.anomaly_detection") == false);
  CHECK(at(config, "output.dir") == "runs/lenet5");
  CHECK(at(config, "output.progress") == "auto");

  const json modern = ag::app::resolve_config(json::object(), "", {"model.variant=modern"});
  CHECK(at(modern, "model.loss") == "cross_entropy");
  const json fashion = ag::app::resolve_config(json::object(), "", {"data.dataset=fashion-mnist"});
  CHECK(at(fashion, "data.dir") == "/usr/share/datasets/fashion-mnist");
  // An explicit dir wins over the dataset's default.
  const json explicit_dir =
      ag::app::resolve_config(json::object(), "", {"data.dataset=fashion-mnist", "data.dir=/tmp/f"});
  CHECK(at(explicit_dir, "data.dir") == "/tmp/f");
  // Resolving a resolved config changes nothing.
  CHECK(ag::app::resolve_config(config, "") == config);
  CHECK(ag::app::resolve_config(fashion, "") == fashion);
}

TEST_CASE("to_train_config fills every typed field") {
  TempFile file(R"({
    "model": {"variant": "lecun1998", "loss": "mle", "map_j": 2.5},
    "data": {"dataset": "fashion-mnist", "train_limit": 1000, "test_limit": 500},
    "train": {"epochs": 3, "batch_size": 16, "seed": 7, "threads": 2, "anomaly_detection": true,
              "optimizer": {"name": "adam", "lr": 0.002, "momentum": 0.5, "nesterov": true, "weight_decay": 0.01,
                            "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "mu": 0.05, "hessian_samples": 200},
              "schedule": {"name": "step", "step_size": 2, "gamma": 0.5, "min_lr": 0.001}},
    "output": {"dir": "runs/x", "checkpoint_every": 1, "progress": "lines"}
  })");
  const ag::app::TrainConfig c = ag::app::to_train_config(load_config(file.path()));
  CHECK(c.model.variant == ag::models::Variant::lecun1998);
  CHECK(c.model.loss == ag::nn::LossKind::mle);
  CHECK(c.model.map_j == 2.5);
  CHECK(c.data.dataset == ag::app::Dataset::fashion_mnist);
  CHECK(c.data.dir == "/usr/share/datasets/fashion-mnist");
  CHECK(c.data.train_limit == 1000);
  CHECK(c.data.test_limit == 500);
  CHECK(c.train.epochs == 3);
  CHECK(c.train.batch_size == 16);
  CHECK(c.train.seed == 7);
  CHECK(c.train.threads == 2);
  CHECK(c.train.anomaly_detection);
  CHECK(c.train.optimizer.name == ag::app::OptimizerKind::adam);
  CHECK(c.train.optimizer.lr == 0.002);
  CHECK(c.train.optimizer.momentum == 0.5);
  CHECK(c.train.optimizer.nesterov);
  CHECK(c.train.optimizer.weight_decay == 0.01);
  CHECK(c.train.optimizer.beta1 == 0.8);
  CHECK(c.train.optimizer.beta2 == 0.99);
  CHECK(c.train.optimizer.eps == 1e-6);
  CHECK(c.train.optimizer.mu == 0.05);
  CHECK(c.train.optimizer.hessian_samples == 200);
  CHECK(c.train.schedule.name == ag::nn::ScheduleKind::step);
  CHECK(c.train.schedule.step_size == 2);
  CHECK(c.train.schedule.gamma == 0.5);
  CHECK(c.train.schedule.min_lr == 0.001);
  CHECK(c.output.dir == "runs/x");
  CHECK(c.output.checkpoint_every == 1);
  CHECK(c.output.progress == ag::app::ProgressMode::lines);

  // The struct's own defaults agree with the schema's.
  const ag::app::TrainConfig from_defaults = ag::app::to_train_config(ag::app::default_config());
  const ag::app::TrainConfig plain;
  CHECK(from_defaults.model.loss == plain.model.loss);
  CHECK(from_defaults.model.map_j == plain.model.map_j);
  CHECK(from_defaults.data.dir == plain.data.dir);
  CHECK(from_defaults.train.epochs == plain.train.epochs);
  CHECK(from_defaults.train.batch_size == plain.train.batch_size);
  CHECK(from_defaults.train.seed == plain.train.seed);
  CHECK(from_defaults.train.optimizer.lr == plain.train.optimizer.lr);
  CHECK(from_defaults.train.optimizer.momentum == plain.train.optimizer.momentum);
  CHECK(from_defaults.train.optimizer.eps == plain.train.optimizer.eps);
  CHECK(from_defaults.train.optimizer.mu == plain.train.optimizer.mu);
  CHECK(from_defaults.train.optimizer.hessian_samples == plain.train.optimizer.hessian_samples);
  CHECK(from_defaults.train.schedule.gamma == plain.train.schedule.gamma);
  CHECK(from_defaults.train.schedule.step_size == plain.train.schedule.step_size);
  CHECK(from_defaults.output.dir == plain.output.dir);
  CHECK(from_defaults.output.progress == plain.output.progress);

  // to_train_config validates a hand-made document too.
  CHECK(error_of([] { ag::app::to_train_config(json{{"train", {{"epochs", 0}}}}); }) ==
        "train.epochs: expected an integer in [1, 1000], got 0");
}

TEST_CASE("enum spellings round-trip") {
  CHECK(ag::models::variant_name(ag::models::Variant::modern) == "modern");
  CHECK(ag::nn::parse_loss("cross_entropy") == ag::nn::LossKind::cross_entropy);
  CHECK(ag::app::to_string(ag::app::Dataset::fashion_mnist) == "fashion-mnist");
  CHECK(ag::app::to_string(ag::app::OptimizerKind::adam) == "adam");
  CHECK(ag::app::to_string(ag::app::OptimizerKind::sdlm) == "sdlm");
  CHECK(ag::nn::parse_schedule("paper") == ag::nn::ScheduleKind::paper);
  CHECK(ag::app::to_string(ag::app::ProgressMode::automatic) == "auto");
  // Every allowed value of a key typed by models or nn is one that models or nn parses.
  const auto choices = [](const char* path) { return ag::app::find_config_key(path)->choices; };
  for (const std::string& variant : choices("model.variant")) {
    CHECK(ag::models::variant_name(ag::models::parse_variant(variant)) == variant);
  }
  for (const std::string& loss : choices("model.loss")) {
    if (loss != "auto") CHECK_NOTHROW(ag::nn::parse_loss(loss));
  }
  for (const std::string& schedule : choices("train.schedule.name")) CHECK_NOTHROW(ag::nn::parse_schedule(schedule));
}

TEST_CASE("numbers are normalised: integral floats are integers, integers are numbers") {
  TempFile file(R"({"train": {"epochs": 1e1, "batch_size": 64.0, "optimizer": {"lr": 1}}})");
  const json config = load_config(file.path());
  CHECK(at(config, "train.epochs").is_number_integer());
  CHECK(at(config, "train.epochs") == 10);
  CHECK(at(config, "train.batch_size") == 64);
  CHECK(at(config, "train.optimizer.lr").is_number_float());
  CHECK(at(config, "train.optimizer.lr") == 1.0);
  // The full unsigned range of the seed.
  TempFile big(R"({"train": {"seed": 18446744073709551615}})");
  CHECK(ag::app::to_train_config(load_config(big.path())).train.seed == 18446744073709551615ULL);
}

TEST_CASE("--set overrides: JSON values, bare text, later ones win") {
  TempFile file(R"({"train": {"epochs": 5}})");
  const json config = load_config(file.path(), {"model.variant=modern", "train.epochs=3", "train.optimizer.lr=1e-3",
                                                "train.anomaly_detection=true", "output.dir=2024",
                                                "data.dir=\"quoted dir\"", "train.epochs=4", " train.seed = 9"});
  CHECK(at(config, "model.variant") == "modern");
  CHECK(at(config, "model.loss") == "cross_entropy");
  CHECK(at(config, "train.epochs") == 4);
  CHECK(at(config, "train.optimizer.lr") == 0.001);
  CHECK(at(config, "train.anomaly_detection") == true);
  CHECK(at(config, "output.dir") == "2024");
  CHECK(at(config, "data.dir") == "quoted dir");
  CHECK(at(config, "train.seed") == 9);
}

TEST_CASE("command line") {
  const auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), "train_lenet");
    return ag::app::parse_command_line(static_cast<int>(args.size()), args.data());
  };
  const auto parse_error = [&](std::vector<const char*> args) { return error_of([&] { parse(args); }); };

  const ag::app::CommandLine line =
      parse({"--config", "configs/lenet5.json", "--set", "train.epochs=3", "--set=model.variant=modern",
             "--print-config"});
  CHECK(line.config_path == "configs/lenet5.json");
  CHECK(line.overrides == std::vector<std::string>{"train.epochs=3", "model.variant=modern"});
  CHECK(line.print_config);
  CHECK(!line.help);
  CHECK(parse({"--config=a.json"}).config_path == "a.json");
  CHECK(parse({"--help"}).help);
  CHECK(parse({"-h"}).help);

  const ag::app::CommandLine resume = parse({"--resume", "runs/x", "--set", "train.epochs=30"});
  CHECK(resume.resume_dir == "runs/x");
  CHECK(resume.config_path.empty());
  CHECK(resume.overrides == std::vector<std::string>{"train.epochs=30"});
  CHECK(parse({"--resume=runs/x", "--config", "a.json"}).config_path == "a.json");
  CHECK(parse_error({"--resume", "a", "--resume", "b"}) == "--resume given twice: \"a\" and \"b\"");
  CHECK(parse_error({"--resume"}) == "--resume: missing the run folder after it");
  CHECK(parse_error({"--resume="}) == "--resume: the run folder is empty");

  CHECK(parse_error({}) == "missing --config FILE (or --resume DIR); see --help");
  CHECK(parse_error({"--config"}) == "--config: missing the file name after it");
  CHECK(parse_error({"--config", "a.json", "--set"}) == "--set: missing key.path=value after it");
  CHECK(parse_error({"--config", "a.json", "--config", "b.json"}) == "--config given twice: \"a.json\" and \"b.json\"");
  CHECK(parse_error({"--confg", "a.json"}) == "unknown option \"--confg\"; did you mean --config?");
  CHECK(parse_error({"--verbose"}) == "unknown option \"--verbose\"; see --help");
  CHECK(parse_error({"--config", "a.json", "train.epochs=3"}) ==
        "unexpected argument \"train.epochs=3\"; settings are given as --set key.path=value");
  CHECK(ag::app::usage_text("train_lenet").starts_with("usage: train_lenet --config FILE"));
}

TEST_CASE("every shipped config loads cleanly") {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSource / "configs")) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    ++count;
    json config;
    CHECK_NOTHROW(config = load_config(entry.path().string()));
    CHECK_NOTHROW(ag::app::to_train_config(config));
  }
  CHECK(count >= 3);

  const auto load = [](const char* name) {
    return ag::app::to_train_config(load_config((kSource / "configs" / name).string()));
  };
  const ag::app::TrainConfig paper = load("lenet5.json");
  CHECK(paper.model.variant == ag::models::Variant::lecun1998);
  CHECK(paper.model.loss == ag::nn::LossKind::map);
  CHECK(paper.data.dataset == ag::app::Dataset::mnist);
  CHECK(paper.train.epochs == 20);
  const ag::app::TrainConfig modern = load("lenet5_modern.json");
  CHECK(modern.model.variant == ag::models::Variant::modern);
  CHECK(modern.model.loss == ag::nn::LossKind::cross_entropy);
  // The paper's training (Appendix C): SDLM after every sample with mu 0.02, h re-estimated on 500 samples before
  // each pass, the paper schedule's steps (x1, x0.4, x0.2, x0.1, x0.02) from eta 0.0001, and the +-1/sqrt(F)
  // weights (docs/paper_training.md says why these two differ from the printed ones); the same with distortions.
  for (const char* name : {"lenet5_paper.json", "lenet5_paper_distorted.json"}) {
    CAPTURE(name);
    const ag::app::TrainConfig sdlm = load(name);
    CHECK(sdlm.model.variant == ag::models::Variant::lecun1998);
    CHECK(sdlm.model.paper.init == ag::nn::Init::lecun_sqrt);
    CHECK(sdlm.data.distort == (std::string(name) == "lenet5_paper_distorted.json"));
    CHECK(sdlm.train.epochs == 20);
    CHECK(sdlm.train.batch_size == 1);
    CHECK(sdlm.train.optimizer.name == ag::app::OptimizerKind::sdlm);
    CHECK(sdlm.train.optimizer.mu == 0.02);
    CHECK(sdlm.train.optimizer.hessian_samples == 500);
    const ag::nn::Schedule rates{sdlm.train.schedule.name, sdlm.train.optimizer.lr};
    for (const auto& [epoch, rate] : std::vector<std::pair<int, double>>{
             {0, 0.0001}, {1, 0.0001}, {2, 0.00004}, {4, 0.00004}, {5, 0.00002}, {7, 0.00002}, {8, 0.00001},
             {11, 0.00001}, {12, 0.000002}, {19, 0.000002}}) {
      CAPTURE(epoch);
      CHECK(rates.lr_at(epoch) == doctest::Approx(rate).epsilon(1e-15));
    }
  }
  const ag::app::TrainConfig fashion = load("lenet5_fashion.json");
  CHECK(fashion.data.dataset == ag::app::Dataset::fashion_mnist);
  CHECK(fashion.data.dir == "/usr/share/datasets/fashion-mnist");
  // The time-to-accuracy configs (issue 22): a short run whose rate is set at every batch, on both cores.
  for (const char* name : {"lenet5_fast.json", "lenet5_modern_fast.json"}) {
    CAPTURE(name);
    const ag::app::TrainConfig fast = load(name);
    CHECK(fast.train.schedule.per_batch);
    CHECK(fast.train.threads == 2);
    CHECK(fast.train.epochs <= 4);
  }
  CHECK(load("lenet5_fast.json").model.variant == ag::models::Variant::lecun1998);
  CHECK(load("lenet5_modern_fast.json").train.target_error == 0.009);
}

TEST_CASE("docs/config.md documents every key and embeds the generated reference") {
  const std::filesystem::path docs = kSource / "docs" / "config.md";
  std::string text = read_text(docs);
  REQUIRE(!text.empty());
  // The reference between the markers is config_docs_markdown() verbatim. To regenerate it after changing the
  // schema, run this test with LENETGRAD_UPDATE_DOCS=1 in the environment.
  const std::string begin = "<!-- BEGIN GENERATED: config_docs_markdown() -->\n";
  const std::string end = "<!-- END GENERATED -->";
  std::size_t from = text.find(begin);
  std::size_t to = text.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  const std::string generated = ag::app::config_docs_markdown();
  if (text.substr(from + begin.size(), to - from - begin.size()) != generated &&
      std::getenv("LENETGRAD_UPDATE_DOCS") != nullptr) {
    text = text.substr(0, from + begin.size()) + generated + text.substr(to);
    std::ofstream(docs) << text;
    MESSAGE("rewrote the generated reference in " << docs.string());
    to = text.find(end);
  }
  CHECK_MESSAGE(text.substr(from + begin.size(), to - from - begin.size()) == generated,
                "docs/config.md is out of date: rerun with LENETGRAD_UPDATE_DOCS=1");
  for (const ag::app::ConfigKey& key : ag::app::config_schema()) {
    CAPTURE(key.path);
    CHECK(text.find("`" + key.path + "`") != std::string::npos);
  }
}
