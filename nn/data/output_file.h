#pragma once
/// Writing output files (state files, the apps' checkpoints, metrics and reports): atomically (a temporary file of a unique name beside the target, flushed to
/// disk, renamed over it), so that a reader, a kill or a second writer never sees half a file; every failure
/// names the file and the system's reason.
#include <filesystem>
#include <string_view>

namespace ag::data {

/// Writes `bytes` to `path` atomically: a new temporary file beside it (named path.<pid>.<n>.tmp, created
/// exclusively, so two writers never share one), written, fsync'ed, renamed over `path`, and the folder synced.
/// A crash at any moment leaves the old file or the new one. Throws ag::Error naming the file, the step that
/// failed and the system's reason (strerror); the temporary file is removed then.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// Writes `bytes` to a file that the user named (--json, --dot): atomically when it is a regular file or does not
/// exist yet, and directly when it is something else (/dev/stdout, a FIFO), which a rename would replace.
/// Throws ag::Error as write_file_atomically does.
void write_output_file(const std::filesystem::path& path, std::string_view bytes);

/// Returns true when `name` is that of a temporary file write_file_atomically makes (name.<pid>.<n>.tmp).
bool is_temporary_name(std::string_view name);

}  // namespace ag::data
