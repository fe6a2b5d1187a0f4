#pragma once
/// Saving and loading a module's state (its parameters and buffers, Module::state()) as a state file
/// (docs/state_format.md): save_state(*model, "lenet5.state"), then load_state(*model, "lenet5.state").
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "nn/module.h"

namespace ag::nn {

/// How load_state matches a file with a module.
struct LoadOptions {
  /// Every entry of the module must be in the file and every entry of the file in the module; with false, the
  /// entries in both are loaded and the others reported (LoadReport).
  bool strict = true;
  /// The largest file read; 0 means the module's state in bytes plus 16 MiB for the names, shapes and metadata.
  std::uint64_t max_bytes = 0;
};

/// What load_state did, by entry name.
struct LoadReport {
  std::vector<std::string> loaded;      ///< in both, copied into the module (module order)
  std::vector<std::string> missing;     ///< in the module, not in the file (left as they were; strict refuses)
  std::vector<std::string> unexpected;  ///< in the file, not in the module (not read; strict refuses)
  std::string metadata;                 ///< the bytes save_state was given
};

/// Writes module.state() (each entry [its shape], float32 or float64 as it is) and `metadata` to `path`
/// atomically. Throws ag::Error "save_state: ..." for a NaN or Inf value (naming the entry and element: the file
/// would be refused on load) and when the file cannot be written (naming it and the system's reason).
void save_state(const Module& module, const std::filesystem::path& path, std::string_view metadata = {});

/// Loads the state file at `path` into `module` (every parameter and buffer, by name): all is verified before a
/// value is copied, so the module is unchanged when it throws. Refused, with ag::Error "load_state: <path>:
/// <fault>": a file that is not a regular one or larger than options.max_bytes, not a state file, damaged or
/// truncated (checksum), of another version, with an entry whose shape or dtype differs from the module's (both
/// named; a float64 file loads into a float64 module: convert with Module::to first), a NaN or Inf value, and in
/// strict mode missing or unexpected entries (named). Returns what was loaded, missing and unexpected.
LoadReport load_state(Module& module, const std::filesystem::path& path, const LoadOptions& options = {});

}  // namespace ag::nn
