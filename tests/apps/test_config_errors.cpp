// The configuration layer's error texts: each names the file or --set, the key, what was expected and what
// was found.
#include <cstdlib>
#include <set>
#include <sys/stat.h>

#include "apps/config_test_support.h"

using namespace config_test;
using ag::app::ConfigError;
using ag::app::load_config;
using nlohmann::json;

TEST_CASE("JSON syntax errors name the file, line and column") {
  CHECK(load_error("{\n  \"train\": {\n    \"epochs\": 20,\n  }\n}\n") ==
        "FILE:4:3: invalid JSON: syntax error while parsing object key - unexpected '}'; expected string literal");
  CHECK(load_error("{\n  \"a\": 1,\n  \"b\": tru\n}").starts_with("FILE:3:11: invalid JSON: syntax error"));
  CHECK(load_error("{\"train\": {\"epochs\": 3}").starts_with("FILE:1:24: invalid JSON: syntax error"));
  CHECK(load_error("").starts_with("FILE:1:1: invalid JSON: syntax error"));
  // Comments are allowed.
  CHECK(load_error("// the default\n{ /* nothing */ }") == "<no error>");
}

TEST_CASE("a document that is not an object") {
  CHECK(load_error("[1, 2]") == "FILE: expected a JSON object of settings at the top level, got [1,2] (an array)");
}

TEST_CASE("unknown keys name the full key and the closest valid one") {
  CHECK(load_error(R"({"train": {"epocs": 3}})") == "FILE: train.epocs: unknown key; did you mean train.epochs?");
  CHECK(load_error(R"({"train": {"optimizer": {"momentom": 0.5}}})") ==
        "FILE: train.optimizer.momentom: unknown key; did you mean train.optimizer.momentum?");
  // Inside a misspelled section the first full key is named.
  CHECK(load_error(R"({"trian": {"epochs": 3}})") == "FILE: trian.epochs: unknown key; did you mean train.epochs?");
  // The same last name under another section.
  CHECK(load_error(R"({"train": {"lr": 0.1}})") == "FILE: train.lr: unknown key; did you mean train.optimizer.lr?");
  // Nothing close: no suggestion.
  CHECK(load_error(R"({"colour": "blue"})") == "FILE: colour: unknown key");
  CHECK(load_error(R"({"model": {"dropout_rate": 0.5}})") == "FILE: model.dropout_rate: unknown key");
  // An empty unknown section may be close to a section.
  CHECK(load_error(R"({"outptu": {}})") == "FILE: outptu: unknown key; did you mean output?");
}

TEST_CASE("dotted names in a file, and a key set twice") {
  TempFile file(R"({"train.epochs": 3, "train": {"optimizer.lr": 0.5}})");
  const json config = load_config(file.path());
  CHECK(at(config, "train.epochs") == 3);
  CHECK(at(config, "train.optimizer.lr") == 0.5);
  CHECK(load_error(R"({"train.epochs": 3, "train": {"epochs": 4}})") == "FILE: train.epochs: set twice");
}

TEST_CASE("a section given a value") {
  CHECK(load_error(R"({"train": 5})") == "FILE: train: expected an object (the section train.*), got 5 (an integer)");
}

TEST_CASE("wrong types and out-of-range values name the key, the expectation and the value") {
  CHECK(load_error(R"({"train": {"batch_size": -3}})") ==
        "FILE: train.batch_size: expected an integer in [1, 60000], got -3");
  CHECK(load_error(R"({"train": {"batch_size": "abc"}})") ==
        "FILE: train.batch_size: expected an integer in [1, 60000], got \"abc\" (a string)");
  CHECK(load_error(R"({"train": {"batch_size": 1.5}})") ==
        "FILE: train.batch_size: expected an integer in [1, 60000], got 1.5 (not an integer)");
  CHECK(load_error(R"({"train": {"batch_size": null}})") ==
        "FILE: train.batch_size: expected an integer in [1, 60000], got null");
  CHECK(load_error(R"({"train": {"batch_size": [32]}})") ==
        "FILE: train.batch_size: expected an integer in [1, 60000], got [32] (an array)");
  CHECK(load_error(R"({"train": {"epochs": 1001}})") ==
        "FILE: train.epochs: expected an integer in [1, 1000], got 1001");
  CHECK(load_error(R"({"train": {"seed": -1}})") == "FILE: train.seed: expected an integer >= 0, got -1");
  CHECK(load_error(R"({"train": {"optimizer": {"lr": 0}}})") ==
        "FILE: train.optimizer.lr: expected a number > 0, got 0");
  CHECK(load_error(R"({"train": {"optimizer": {"momentum": 1.0}}})") ==
        "FILE: train.optimizer.momentum: expected a number in [0, 1), got 1.0");
  CHECK(load_error(R"({"train": {"optimizer": {"lr": "fast"}}})") ==
        "FILE: train.optimizer.lr: expected a number > 0, got \"fast\" (a string)");
  CHECK(load_error(R"({"train": {"optimizer": {"name": "sdlm", "mu": 0}}})") ==
        "FILE: train.optimizer.mu: expected a number > 0, got 0");
  CHECK(load_error(R"({"train": {"optimizer": {"mu": -0.02}}})") ==
        "FILE: train.optimizer.mu: expected a number > 0, got -0.02");
  CHECK(load_error(R"({"train": {"optimizer": {"hessian_samples": 0}}})") ==
        "FILE: train.optimizer.hessian_samples: expected an integer in [1, 60000], got 0");
  CHECK(load_error(R"({"train": {"optimizer": {"hessian_samples": 12.5}}})") ==
        "FILE: train.optimizer.hessian_samples: expected an integer in [1, 60000], got 12.5 (not an integer)");
  CHECK(load_error(R"({"train": {"optimizer": {"name": "sdml"}}})") ==
        "FILE: train.optimizer.name: expected one of \"sgd\", \"adam\", \"sdlm\", got \"sdml\"");
  CHECK(load_error(R"({"train": {"anomaly_detection": 1}})") ==
        "FILE: train.anomaly_detection: expected true or false, got 1 (an integer)");
  CHECK(load_error(R"({"model": {"variant": "moden"}})") ==
        "FILE: model.variant: expected one of \"lecun1998\", \"modern\", got \"moden\"");
  CHECK(load_error(R"({"model": {"variant": 5}})") ==
        "FILE: model.variant: expected one of \"lecun1998\", \"modern\", got 5 (an integer)");
  CHECK(load_error(R"({"output": {"dir": ""}})") == "FILE: output.dir: expected a non-empty string, got \"\"");
  CHECK(load_error(R"({"data": {"dir": true}})") ==
        "FILE: data.dir: expected a non-empty string, got true (a boolean)");
  CHECK(load_error(R"({"data": {"test_limit": 10001}})") ==
        "FILE: data.test_limit: expected an integer in [0, 10000], got 10001");
}

TEST_CASE("--set errors: missing '=', bad path, section, bad value") {
  CHECK(set_error({"train.epochs"}) == "--set train.epochs: expected key.path=value, found no '='");
  CHECK(set_error({"=3"}) == "--set =3: expected key.path=value, found no key before '='");
  CHECK(set_error({"train.epocs=3"}) == "--set train.epocs: unknown key; did you mean train.epochs?");
  CHECK(set_error({"optimizer.lr=0.1"}) == "--set optimizer.lr: unknown key; did you mean train.optimizer.lr?");
  CHECK(set_error({"foo=1"}) == "--set foo: unknown key");
  CHECK(set_error({"train.schedule=cosine"}) ==
        "--set train.schedule: a section, not a key; set one of its keys: train.schedule.name, "
        "train.schedule.step_size, train.schedule.gamma, train.schedule.min_lr, train.schedule.per_batch, "
        "train.schedule.warmup_epochs");
  CHECK(set_error({"train.batch_size=-3"}) == "--set train.batch_size: expected an integer in [1, 60000], got -3");
  CHECK(set_error({"train.batch_size=abc"}) ==
        "--set train.batch_size: expected an integer in [1, 60000], got \"abc\" (a string)");
  CHECK(set_error({"train.batch_size="}) ==
        "--set train.batch_size: expected an integer in [1, 60000], got \"\" (a string)");
  CHECK(set_error({"model.variant=modrn"}) ==
        "--set model.variant: expected one of \"lecun1998\", \"modern\", got \"modrn\"");
  CHECK(set_error({"train.anomaly_detection=yes"}) ==
        "--set train.anomaly_detection: expected true or false, got \"yes\" (a string)");
}

TEST_CASE("keys checked together") {
  CHECK(load_error(R"({"model": {"variant": "modern", "loss": "map"}})") ==
        "FILE: model.loss: \"map\" needs model.variant \"lecun1998\" (RBF outputs), but model.variant is \"modern\"");
  CHECK(set_error({"model.variant=modern", "model.loss=mle"}) ==
        "--set model.loss: \"mle\" needs model.variant \"lecun1998\" (RBF outputs), but model.variant is \"modern\"");
  CHECK(set_error({"train.optimizer.momentum=0", "train.optimizer.nesterov=true"}) ==
        "--set train.optimizer.nesterov: true needs train.optimizer.momentum > 0, but it is 0");
  // Nesterov is an SGD setting: Adam ignores it.
  CHECK(set_error({"train.optimizer.name=adam", "train.optimizer.momentum=0", "train.optimizer.nesterov=true"}) ==
        "<no error>");
  CHECK(load_error(R"({"train": {"optimizer": {"lr": 0.001}, "schedule": {"name": "cosine", "min_lr": 0.01}}})") ==
        "FILE: train.schedule.min_lr: expected a number <= train.optimizer.lr (0.001), got 0.01");
  CHECK(set_error({"train.epochs=3", "train.schedule.warmup_epochs=3"}) ==
        "--set train.schedule.warmup_epochs: expected a number < train.epochs (3), got 3");
  CHECK(set_error({"train.epochs=3", "train.schedule.warmup_epochs=2.5"}) == "<no error>");
  CHECK(set_error({"model.variant=modern", "model.loss=cross_entropy", "model.subsampling=average"}) ==
        "--set model.subsampling: \"average\" is an option of model.variant \"lecun1998\", but model.variant is "
        "\"modern\"");
  CHECK(set_error({"model.input=zero_padded_28", "model.subsampling=average", "model.subsampling_squash=sigmoid",
                   "model.codes=random", "model.init=lecun_sqrt"}) == "<no error>");
  CHECK(set_error({"model.variant=modern", "model.loss=cross_entropy", "model.init=lecun_sqrt"}) ==
        "--set model.init: \"lecun_sqrt\" is an option of model.variant \"lecun1998\", but model.variant is "
        "\"modern\"");
  CHECK(set_error({"model.init=he"}) ==
        "--set model.init: expected one of \"lecun1998\", \"lecun_sqrt\", got \"he\"");
  CHECK(set_error({"model.loss=cross_entropy"}) ==
        "--set model.loss: \"cross_entropy\" needs model.variant \"modern\" (logit outputs), but model.variant is "
        "\"lecun1998\"");
  CHECK(set_error({"model.loss=mle"}) == "<no error>");
  CHECK(set_error({"model.variant=modern", "model.loss=cross_entropy"}) == "<no error>");
}

TEST_CASE("a missing or unreadable config file is named") {
  CHECK(error_of([] { load_config("configs/does_not_exist.json"); }) ==
        "configs/does_not_exist.json: cannot open the config file: No such file or directory");
  const std::string folder = std::filesystem::temp_directory_path().string();
  CHECK(error_of([&] { load_config(folder); }) ==
        folder + ": cannot read the config file: it is a directory, not a regular file");
  CHECK(error_of([] { load_config(""); }) == "load_config: the config file path is empty");
}


TEST_CASE("a config path that is not a regular file is refused before it is read") {
  // A FIFO would block the open for ever, /dev/zero would be read until memory ran out.
  CHECK(error_of([] { load_config("/dev/zero"); }) ==
        "/dev/zero: cannot read the config file: it is a character device, not a regular file");
  const std::string fifo = (std::filesystem::temp_directory_path() /
                            ("lenetgrad_test_config_fifo_" + std::to_string(::getpid()))).string();
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CHECK(error_of([&] { load_config(fifo); }) ==
        fifo + ": cannot read the config file: it is a FIFO (named pipe), not a regular file");
  std::filesystem::remove(fifo);
  TempFile big(std::string(5 << 20, ' ') + "{}");
  CHECK(error_of([&] { load_config(big.path()); }) ==
        big.path() + ": cannot read the config file: it holds 5242882 bytes, more than the 4194304 that a config file "
                     "may hold");
}

TEST_CASE("an empty key, a NUL in a path, a number too large, a value that float32 cannot keep") {
  CHECK(load_error(R"({"": 3})") == "FILE: \"\": a key with an empty name; keys are dotted names such as train.epochs");
  CHECK(load_error(R"({"train": {"": 3}})") ==
        "FILE: \"train.\": a key with an empty name; keys are dotted names such as train.epochs");
  CHECK(load_error(R"({"train.": 3})") ==
        "FILE: \"train.\": a key with an empty name; keys are dotted names such as train.epochs");
  CHECK(set_error({".epochs=3"}) ==
        "--set \".epochs\": a key with an empty name; keys are dotted names such as train.epochs");
  // The system would cut the path at the NUL, and the message with it.
  CHECK(load_error(R"({"output": {"dir": "runs/a\u0000b"}})") ==
        "FILE: output.dir: expected a non-empty string, got \"runs/a\\u0000b\" (it holds a NUL character)");
  CHECK(set_error({"train.optimizer.lr=1e400"}) ==
        "--set train.optimizer.lr: the number 1e400 is too large to represent");
  CHECK(set_error({"train.seed=1e400"}) == "--set train.seed: the number 1e400 is too large to represent");
  // A text key takes the text as it is: a folder may be called 1e400.
  CHECK(set_error({"output.dir=1e400"}) == "<no error>");
  // Training computes in float32, where these values are not what they are in the config.
  CHECK(set_error({"train.optimizer.eps=1e-50"}) ==
        "--set train.optimizer.eps: expected a number > 0, got 1e-50 (0 in float32, the precision training computes "
        "in)");
  CHECK(set_error({"train.optimizer.lr=1e-40"}) ==
        "--set train.optimizer.lr: expected a number > 0, got 1e-40 (0 in float32, the precision training computes "
        "in)");
  CHECK(set_error({"train.optimizer.beta2=0.99999999999"}) ==
        "--set train.optimizer.beta2: expected a number in [0, 1), got 0.99999999999 (1 in float32, the precision "
        "training computes in)");
  CHECK(set_error({"train.optimizer.lr=1e39"}) ==
        "--set train.optimizer.lr: expected a number > 0, got 1e+39 (beyond the float32 range that training computes "
        "in)");
  CHECK(set_error({"train.optimizer.eps=1e-30"}) == "<no error>");
}
