#pragma once
/// Progress output for training: a live bar per epoch on a terminal, one plain line per epoch otherwise.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ag::app {

/// Reports one epoch's progress. With a bar, redraws a single line at most ten times a second.
class EpochProgress {
 public:
  /// Starts an epoch of `total_batches`; `bar` selects the live bar.
  EpochProgress(int epoch, int epochs, std::int64_t total_batches, bool bar, std::FILE* out = stdout);
  /// Records a finished batch: samples in it, its summed loss, its count of misclassified samples and its summed
  /// input-gradient penalty (train.input_gradient_penalty; 0 when off).
  void batch_done(std::int64_t samples, double loss_sum, std::int64_t errors, double penalty_sum = 0);
  /// Starts from a partly done epoch (a resumed run): its batches, samples, summed loss, errors and penalty.
  void restore(std::int64_t batches, std::int64_t samples, double loss_sum, std::int64_t errors,
               double penalty_sum = 0);
  /// Returns the summed loss so far this epoch.
  double loss_sum() const { return loss_sum_; }
  /// Returns the misclassified training samples so far this epoch.
  std::int64_t errors() const { return errors_; }
  /// Returns the summed input-gradient penalty so far this epoch.
  double penalty_sum() const { return penalty_sum_; }
  /// Returns the mean input-gradient penalty per sample so far this epoch.
  double mean_penalty() const { return samples_ ? penalty_sum_ / static_cast<double>(samples_) : 0.0; }
  /// Returns the mean loss so far this epoch.
  double mean_loss() const { return samples_ ? loss_sum_ / static_cast<double>(samples_) : 0.0; }
  /// Returns the fraction of misclassified training samples so far this epoch.
  double error_rate() const { return samples_ ? static_cast<double>(errors_) / static_cast<double>(samples_) : 0.0; }
  /// Returns the seconds since the epoch started.
  double seconds() const;
  /// Returns the training samples per second so far.
  double samples_per_second() const;
  /// Ends the bar's line (bar mode), so the epoch summary prints below it.
  void finish();

 private:
  void draw();

  int epoch_, epochs_;
  std::int64_t total_batches_, batches_ = 0, samples_ = 0, errors_ = 0;
  double loss_sum_ = 0, penalty_sum_ = 0;
  bool bar_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// Returns true when `out` is a terminal.
bool is_terminal(std::FILE* out);

}  // namespace ag::app
