// The apps' command-line options: one parser for the three of them.
#include "apps/train/options.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "apps/train/suggest.h"

namespace ag::app {
namespace {

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, std::string_view name) {
  const auto it = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

// True when `argument` is one of the options ("--json" or "--json=x"): not a value for the option before it.
bool is_option(const std::vector<OptionSpec>& specs, const std::string& argument) {
  return find_spec(specs, argument.substr(0, argument.find('='))) != nullptr;
}

[[noreturn]] void unknown_option(const std::string& option, const std::vector<OptionSpec>& specs) {
  std::vector<std::string> names;
  for (const OptionSpec& spec : specs) names.push_back(spec.name);
  const std::string suggestion = closest_name(option, names);
  config_fail(suggestion.empty() ? fmt::format("unknown option \"{}\"; see --help", option)
                                 : fmt::format("unknown option \"{}\"; did you mean {}?", option, suggestion));
}

}  // namespace

std::string ParsedArguments::value(std::string_view name) const {
  const auto it = values.find(name);
  return it == values.end() || it->second.empty() ? std::string() : it->second.back();
}

std::vector<std::string> ParsedArguments::all(std::string_view name) const {
  const auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>() : it->second;
}

ParsedArguments parse_arguments(int argc, const char* const argv[], const std::vector<OptionSpec>& specs,
                                const Positionals& positionals) {
  ParsedArguments result;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (!argument.starts_with("-")) {
      if (result.positional.size() >= positionals.max) {
        config_fail(fmt::format("unexpected argument \"{}\"; {}", argument,
                                positionals.hint.empty() ? "see --help" : positionals.hint));
      }
      result.positional.push_back(argument);
      continue;
    }
    // "--option=value" is split into option and value; "-h" is --help.
    std::string option = argument == "-h" ? "--help" : argument;
    std::optional<std::string> value;
    if (const std::size_t equals = argument.find('='); argument.starts_with("--") && equals != std::string::npos) {
      option = argument.substr(0, equals);
      value = argument.substr(equals + 1);
    }
    const OptionSpec* spec = find_spec(specs, option);
    if (spec == nullptr) unknown_option(option, specs);
    if (spec->value.empty() && value) config_fail(fmt::format("{} takes no value, got \"{}\"", option, *value));
    if (!spec->value.empty() && !value) {
      // A value is missing at the end, and before another option: "--run --json x" is not a run folder "--json".
      if (i + 1 >= argc || is_option(specs, argv[i + 1]))
        config_fail(fmt::format("{}: missing {} after it", option, spec->value));
      value = argv[++i];
    }
    std::vector<std::string>& given = result.values[option];
    if (!given.empty() && !spec->repeatable) {
      config_fail(spec->value.empty()
                      ? fmt::format("{} given twice", option)
                      : fmt::format("{} given twice: \"{}\" and \"{}\"", option, given.back(), value.value_or("")));
    }
    given.push_back(value.value_or(""));
  }
  return result;
}

int run_app(std::string_view program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    fmt::print(stderr, "{}: {}\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", program, e.what());
    return 1;
  }
}

}  // namespace ag::app
