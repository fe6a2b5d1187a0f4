#pragma once
/// The report as train_lenet writes it: DIR/report.html after every end-of-epoch checkpoint and when the run
/// ends, without ever stopping the training it reports on.
#include <cstdint>
#include <filesystem>
#include <functional>

namespace ag::app {

/// The report's file name inside a run folder.
inline constexpr const char* kReportFile = "report.html";

/// Writes run_dir/report.html (atomically: a temporary file of a unique name renamed over it); on failure prints
/// one line "train_lenet: report not written: ..." to stderr and returns false instead of throwing (a report is
/// never worth losing a run over).
bool write_run_report(const std::filesystem::path& run_dir);

/// Returns a TrainHooks::after_checkpoint callback that writes the report after each checkpoint taken at the
/// end of an epoch (batches_done == 0); mid-epoch checkpoints, which can come every few batches, are skipped.
std::function<void(int epochs_done, std::int64_t batches_done)> report_after_checkpoint(std::filesystem::path run_dir);

}  // namespace ag::app
