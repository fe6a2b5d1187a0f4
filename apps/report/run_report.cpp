#include "apps/report/run_report.h"

#include <fmt/format.h>

#include <exception>

#include "apps/report/report.h"
#include "apps/train/file_output.h"

namespace ag::app {

bool write_run_report(const std::filesystem::path& run_dir) {
  try {
    // The run's own file: replaced atomically, whatever is there (a FIFO put in its place would block a writer).
    write_file_atomically(run_dir / kReportFile, render_report(gather_report(run_dir)));
    return true;
  } catch (const std::exception& e) {
    fmt::print(stderr, "train_lenet: report not written: {}\n", e.what());
    return false;
  }
}

std::function<void(int, std::int64_t)> report_after_checkpoint(std::filesystem::path run_dir) {
  return [dir = std::move(run_dir)](int /*epochs_done*/, std::int64_t batches_done) {
    if (batches_done == 0) write_run_report(dir);
  };
}

}  // namespace ag::app
