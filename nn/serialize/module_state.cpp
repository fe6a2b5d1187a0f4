// Saving and loading a module's state: matching the file's entries with the module's, all checked before a copy.
#include "nn/serialize/module_state.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <map>

#include "autograd/graph.h"
#include "nn/serialize/state_file.h"

namespace ag::nn {

namespace {

// Room for the names, shapes and metadata of a file beyond its values, in the default size bound.
constexpr std::uint64_t kRoomBeyondValues = std::uint64_t{16} << 20;

std::size_t byte_size(const Tensor& t) { return static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()); }

// "a", "a, b", ...: at most eight names, then how many more.
std::string name_list(const std::vector<std::string>& names) {
  constexpr std::size_t shown = 8;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < shown; ++i) out += (i == 0 ? "" : ", ") + names[i];
  if (names.size() > shown) out += fmt::format(" and {} more", names.size() - shown);
  return out;
}

// Fails naming `op`, `where`, the entry and the element when `t` holds a NaN or an Inf: a model that trained
// well holds none, and one that did not would only spread it.
void require_finite(const std::string& name, const Tensor& t, std::string_view op, std::string_view where) {
  dispatch_floating(t.dtype(), op, [&](auto type) {
    using T = decltype(type);
    const T* values = t.data<T>();
    for (std::int64_t i = 0; i < t.numel(); ++i)
      if (!std::isfinite(values[i]))
        fail(op, "{}: entry {} holds {} at element {}; state files hold finite values only", where, name,
             std::isnan(values[i]) ? "NaN" : "Inf", i);
  });
}

// Fails unless the file's entry has the module's shape and dtype.
void require_same_kind(const std::string& name, const Tensor& stored, const Tensor& own, std::string_view where) {
  if (stored.shape() == own.shape() && stored.dtype() == own.dtype()) return;
  const bool dtype_only = stored.shape() == own.shape();
  fail("load_state", "{}: entry {} is {} {} in the file but {} {} in the module{}", where, name,
       shape_str(stored.shape()), dtype_name(stored.dtype()), shape_str(own.shape()), dtype_name(own.dtype()),
       dtype_only ? fmt::format("; convert the module with to({}) first", dtype_name(stored.dtype())) : "");
}

// Matches the file's entries with the module's, checking every one in both; fills `report` and `pairs` (file
// tensor, module tensor), and fails in strict mode on a missing or unexpected entry.
void match_entries(const StateFile& file, const std::vector<NamedTensor>& own, const LoadOptions& options,
                   std::string_view where, LoadReport& report, std::vector<std::pair<Tensor, Tensor>>& pairs) {
  std::map<std::string, const Tensor*> stored;
  for (const auto& entry : file.tensors) stored.emplace(entry.name, &entry.value);
  std::map<std::string, bool> in_module;
  for (const auto& [name, value] : own) {
    in_module[name] = true;
    const auto it = stored.find(name);
    if (it == stored.end()) {
      report.missing.push_back(name);
      continue;
    }
    require_same_kind(name, *it->second, value, where);
    require_finite(name, *it->second, "load_state", where);
    report.loaded.push_back(name);
    pairs.emplace_back(*it->second, value);
  }
  for (const auto& entry : file.tensors)
    if (!in_module.contains(entry.name)) report.unexpected.push_back(entry.name);
  if (!options.strict) return;
  if (!report.missing.empty())
    fail("load_state", "{}: missing {} {} (the module has {}, the file does not)", where,
         report.missing.size() == 1 ? "entry" : "entries", name_list(report.missing),
         report.missing.size() == 1 ? "it" : "them");
  if (!report.unexpected.empty())
    fail("load_state", "{}: unexpected {} {} (the file has {}, the module does not; LoadOptions::strict = false "
         "skips {})", where, report.unexpected.size() == 1 ? "entry" : "entries", name_list(report.unexpected),
         report.unexpected.size() == 1 ? "it" : "them", report.unexpected.size() == 1 ? "it" : "them");
}

}  // namespace

void save_state(const Module& module, const std::filesystem::path& path, std::string_view metadata) {
  StateFile file{module.state(), std::string(metadata)};
  for (const auto& [name, value] : file.tensors) require_finite(name, value, "save_state", path.string());
  write_state_file(path, file, "save_state");
}

LoadReport load_state(Module& module, const std::filesystem::path& path, const LoadOptions& options) {
  const std::vector<NamedTensor> own = module.state();
  std::uint64_t max_bytes = options.max_bytes;
  if (max_bytes == 0) {
    max_bytes = kRoomBeyondValues;
    for (const auto& entry : own) max_bytes += byte_size(entry.value);
  }
  LoadReport report;
  std::vector<std::pair<Tensor, Tensor>> pairs;
  StateFile file = read_state_file(path, max_bytes, "load_state");
  match_entries(file, own, options, path.string(), report, pairs);
  // Everything is verified: only now is the module written. Parameters are leaves that require a gradient,
  // written outside grad mode as an optimizer writes them (and their version counts the write).
  const NoGradGuard no_grad;
  for (auto& [stored, target] : pairs)
    dispatch_floating(target.dtype(), "load_state", [&](auto type) {
      using T = decltype(type);
      if (target.numel() > 0) std::memcpy(target.mutable_data<T>(), stored.data<T>(), byte_size(target));
    });
  report.metadata = std::move(file.metadata);
  return report;
}

}  // namespace ag::nn
