#pragma once
/// The training report: one self-contained HTML page (inline SVG charts and inline PNG pictures, no scripts,
/// fonts or images from anywhere else) showing what a run learned. docs/report.md describes it.
#include <filesystem>
#include <string>

#include "apps/report/report_data.h"

namespace ag::app {

/// Returns the page for `data` as HTML text.
std::string render_report(const ReportData& data);

/// Writes the report of the run folder `run_dir` to `out` as write_output_file does: through a temporary file of a
/// unique name and a rename, so that a reader never sees half a page and two writers never share a temporary file;
/// directly when `out` is a device or a FIFO (/dev/stdout). Throws ag::Error or ConfigError naming the file that
/// cannot be read or written and the system's reason.
void write_report(const std::filesystem::path& run_dir, const std::filesystem::path& out, const ReportOptions& options = {});

}  // namespace ag::app
