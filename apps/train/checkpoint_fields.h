#pragma once
/// The inside of a checkpoint file, for checkpoint.cpp and checkpoint_legacy.cpp: its header's fields, each read
/// with its type and bounded by what a real run can write, and the checks on its tensors. The checksum only shows
/// that a file is as it was written: these checks refuse a file written by another program (or crafted) with a
/// message, so that it is never misread.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "apps/train/checkpoint.h"
#include "autograd/shape.h"
#include "autograd/tensor.h"

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

/// Throws unless the header's "variant" and "optimizer" are those of `contents` (the config's).
void check_model(const Header& header, const CheckpointContents& contents, const std::string& where);

/// Throws unless the tensor `name`, stored as [file_shape] `file_dtype`, has the shape and dtype of `model`'s.
void check_stored_shape(const std::string& name, const Shape& file_shape, std::string_view file_dtype,
                        const Tensor& model, const std::string& where);

/// Throws naming the tensor and the element when `value` (element `index` of tensor `name`) is NaN or Inf:
/// training never checkpoints one, so such a file was not written by a good run.
void require_finite(double value, const std::string& name, std::size_t index, const std::string& where);

/// Reads a file of the versions before state files (1 and 2: "LENETCKP", docs/checkpoint.md) from `data`, the whole
/// file: every check of docs/checkpoint.md, then the stored values are copied into contents.tensors. Returns the
/// counters and version read, as read_counters does.
CheckpointContents load_legacy_checkpoint(const std::string& data, CheckpointContents& contents,
                                          const std::string& where);

}  // namespace ag::app::checkpoint_detail
