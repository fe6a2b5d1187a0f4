#pragma once
/// The inside of a checkpoint file, for checkpoint.cpp: its header's fields, each read with its type and bounded
/// by what a real run can write, and the tensors it stores, located and checked to be finite. The checksum only
/// shows that a file is as it was written: these checks refuse a file written by another program (or crafted)
/// with a message, so that it is never misread.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "apps/train/checkpoint.h"
#include "autograd/shape.h"

namespace ag::app::checkpoint_detail {

/// A header's fields, each checked for presence, type and bounds before use; errors name `where` (the file).
class Header {
 public:
  /// Parses the header's JSON text; throws ag::Error when it is not a JSON object.
  Header(const std::string& text, const std::string& where);
  /// Returns the field `name`; throws when the header lacks it.
  const nlohmann::json& field(const char* name) const;
  /// Throws "header field "<name>": expected <expected>, got <the value>".
  [[noreturn]] void bad_field(const char* name, std::string_view expected) const;
  /// Returns the integer field `name`, refused unless it is in [min, max].
  std::int64_t count(const char* name, std::int64_t min, std::int64_t max) const;
  /// Returns the string field `name`.
  std::string text(const char* name) const;
  /// Returns the number field `name`, which must be finite.
  double finite_number(const char* name) const;
  /// Returns true when the header has a field `name` (for a field that later versions of the writer add).
  bool has(const char* name) const;

 private:
  const std::string& where_;
  nlohmann::json json_;
};

/// Returns the counters, the generator state and the sample-order fields of `header` (a file of format `version`,
/// 1 or 2), each bounded by what a real run can write; the variant, optimizer and tensors are left empty.
CheckpointContents read_counters(const Header& header, std::uint32_t version);

/// A tensor stored in the file: its shape, dtype and the offset of its bytes.
struct Stored {
  Shape shape;
  std::string dtype;
  std::size_t offset;
};

/// Locates every tensor the header's list names, the first at `offset`, each checked to fit before `body` (sizes
/// computed without overflow); returns them by name and sets `offset` to the end of the last.
std::map<std::string, Stored> locate_tensors(const nlohmann::json& tensors, const std::string& where,
                                             std::size_t& offset, std::size_t body);

/// Throws naming the tensor and the element when a value of a stored tensor is NaN or Inf: training never
/// checkpoints one, so such a file was not written by a good run.
void require_finite_values(const std::map<std::string, Stored>& stored, const std::string& data,
                           const std::string& where);

}  // namespace ag::app::checkpoint_detail
