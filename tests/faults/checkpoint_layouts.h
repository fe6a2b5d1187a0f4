#pragma once
// The two checkpoint layouts that fault_fixture takes apart and puts together, read from the docs, not from the
// library: the current one, a state file (docs/state_format.md) whose metadata is the header (docs/checkpoint.md),
// and format 2, the "LENETCKP" frame that older builds wrote. Every join computes a checksum that fits, so that a
// crafted file is given away by its content only.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fixture_support.h"

namespace fixture {

/// An entry of a state file: its name, dtype code (1 float32, 2 float64), dimensions and value bytes.
struct StateEntry {
  std::string name;
  std::uint8_t dtype = 1;
  std::vector<std::uint64_t> dims;
  Bytes values;
};

/// A state file taken apart: its version, metadata (a checkpoint's header, JSON text) and entries.
struct StateParts {
  std::uint32_t version = 1;
  Bytes metadata;
  std::vector<StateEntry> entries;
};

/// Returns the parts of the well-formed state file `file`; throws std::runtime_error when it is not one.
StateParts split_state(const Bytes& file);

/// Returns the state file of `parts`, then `trailing` bytes before its checksum, and the checksum.
Bytes join_state(const StateParts& parts, const Bytes& trailing = {});

/// A format-2 checkpoint taken apart: its version, header JSON (with the "tensors" list) and tensor bytes.
struct LegacyParts {
  std::uint32_t version = 2;
  std::string header;
  Bytes tensors;
};

/// Returns `state` as a format-2 checkpoint: the header without "format" and "checkpoint_version", with the
/// entries listed in "tensors" as {name, shape, dtype}, and their values one after the other.
LegacyParts legacy_from_state(const StateParts& state);

/// Returns the format-2 checkpoint file of `parts`: "LENETCKP", version, header length, header, tensors, checksum.
Bytes join_legacy(const LegacyParts& parts);

/// Returns `file` with its last 8 bytes replaced by the checksum of the bytes before them.
Bytes rechecked(Bytes file);

/// Returns `value`'s little-endian bytes.
template <class T>
Bytes le(T value) {
  return Bytes(reinterpret_cast<const char*>(&value), sizeof(T));
}

}  // namespace fixture
