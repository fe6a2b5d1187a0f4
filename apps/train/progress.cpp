#include "apps/train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

namespace ag::app {

bool is_terminal(std::FILE* out) { return ::isatty(fileno(out)) == 1; }

EpochProgress::EpochProgress(int epoch, int epochs, std::int64_t total_batches, bool bar, std::FILE* out)
    : epoch_(epoch), epochs_(epochs), total_batches_(total_batches), bar_(bar), out_(out),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double EpochProgress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double EpochProgress::samples_per_second() const {
  const double s = seconds();
  return s > 0 ? static_cast<double>(samples_) / s : 0.0;
}

void EpochProgress::restore(std::int64_t batches, std::int64_t samples, double loss_sum, std::int64_t errors,
                            double penalty_sum) {
  batches_ = batches;
  samples_ = samples;
  loss_sum_ = loss_sum;
  errors_ = errors;
  penalty_sum_ = penalty_sum;
}

void EpochProgress::batch_done(std::int64_t samples, double loss_sum, std::int64_t errors, double penalty_sum) {
  ++batches_;
  samples_ += samples;
  loss_sum_ += loss_sum;
  errors_ += errors;
  penalty_sum_ += penalty_sum;
  if (!bar_) return;
  const auto now = std::chrono::steady_clock::now();
  if (batches_ == total_batches_ || now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw();
  }
}

void EpochProgress::draw() {
  constexpr int kWidth = 30;
  const double done = total_batches_ ? static_cast<double>(batches_) / static_cast<double>(total_batches_) : 1.0;
  const int filled = static_cast<int>(done * kWidth);
  const double eta = done > 0 ? seconds() * (1 - done) / done : 0.0;
  const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                          std::string(static_cast<std::size_t>(kWidth - filled), '.');
  fmt::print(out_, "\repoch {:>2}/{} [{}] {}/{} loss {:.4f} err {:5.2f}% {:6.0f} samples/s ETA {:3.0f}s", epoch_,
             epochs_, bar, batches_, total_batches_, mean_loss(), 100 * error_rate(), samples_per_second(), eta);
  std::fflush(out_);
}

void EpochProgress::finish() {
  if (bar_) fmt::print(out_, "\n");
}

}  // namespace ag::app
