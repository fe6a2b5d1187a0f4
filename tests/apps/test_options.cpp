// The apps' command-line parser (apps/train/options.h): each mistake named, as a usage error.
#include <doctest/doctest.h>

#include <apps/train/command_line.h>
#include <apps/train/options.h>

#include <string>
#include <vector>

namespace {

using ag::app::OptionSpec;

const std::vector<OptionSpec> kSpecs = {
    {"--run", "the run folder"}, {"--json", "the file name"}, {"--set", "key.path=value", true}, {"--help", ""}};

// The error of parsing `words` against kSpecs (at most `positional` positional arguments), or "<no error>".
std::string error_of(const std::vector<std::string>& words, std::size_t positional = 0) {
  std::vector<const char*> argv = {"app"};
  for (const std::string& word : words) argv.push_back(word.c_str());
  try {
    ag::app::parse_arguments(static_cast<int>(argv.size()), argv.data(), kSpecs, {positional, ""});
  } catch (const ag::app::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST_CASE("options: values in both forms, repeatable options in order, positionals") {
  const std::vector<const char*> argv = {"app", "--run=a", "--set", "x=1", "--set=y=2", "-h", "word"};
  const ag::app::ParsedArguments parsed =
      ag::app::parse_arguments(static_cast<int>(argv.size()), argv.data(), kSpecs, {1, ""});
  CHECK(parsed.value("--run") == "a");
  CHECK(parsed.all("--set") == std::vector<std::string>{"x=1", "y=2"});
  CHECK(parsed.has("--help"));
  CHECK_FALSE(parsed.has("--json"));
  CHECK(parsed.value("--json").empty());
  CHECK(parsed.positional == std::vector<std::string>{"word"});
}

TEST_CASE("options: repeated, dangling, unknown and stray arguments are usage errors") {
  CHECK(error_of({"--run", "a", "--run", "b"}) == "--run given twice: \"a\" and \"b\"");
  CHECK(error_of({"--help", "--help"}) == "--help given twice");
  CHECK(error_of({"--run"}) == "--run: missing the run folder after it");
  CHECK(error_of({"--run", "--json", "x"}) == "--run: missing the run folder after it");
  CHECK(error_of({"--run", "--json=x"}) == "--run: missing the run folder after it");
  CHECK(error_of({"--jsn", "x"}) == "unknown option \"--jsn\"; did you mean --json?");
  CHECK(error_of({"--frobnicate"}) == "unknown option \"--frobnicate\"; see --help");
  CHECK(error_of({"--help=yes"}) == "--help takes no value, got \"yes\"");
  CHECK(error_of({"stray"}) == "unexpected argument \"stray\"; see --help");
  CHECK(error_of({"one", "two"}, 1) == "unexpected argument \"two\"; see --help");
  // A value that merely looks like an option of no app is a value.
  CHECK(error_of({"--run", "--not-an-option"}) == "<no error>");
}

TEST_CASE("train_lenet: --overwrite, and its conflict with --resume") {
  const std::vector<const char*> argv = {"train_lenet", "--config", "c.json", "--overwrite"};
  CHECK(ag::app::parse_command_line(static_cast<int>(argv.size()), argv.data()).overwrite);
  const std::vector<const char*> both = {"train_lenet", "--resume", "runs/x", "--overwrite"};
  CHECK_THROWS_WITH_AS(ag::app::parse_command_line(static_cast<int>(both.size()), both.data()),
                       "--overwrite and --resume: --resume continues the run in its folder, --overwrite starts a new "
                       "one over it; give one of them",
                       ag::app::ConfigError);
}
