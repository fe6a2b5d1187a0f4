#pragma once
/// Learning-rate schedules: the rate for each epoch (0-based), from a base rate.
#include <string_view>

namespace ag::nn {

enum class ScheduleKind {
  constant,  ///< base rate throughout
  paper,     ///< LeCun et al. 1998, Appendix C: x1 (epochs 1-2), x0.4 (3-5), x0.2 (6-8), x0.1 (9-12), x0.02 (13+)
  step,      ///< multiplied by gamma every step_size epochs
  cosine,    ///< from base down to min_lr over total_epochs, half a cosine
};

/// Parses "constant", "paper", "step" or "cosine"; throws ag::Error naming the text otherwise.
ScheduleKind parse_schedule(std::string_view name);

struct Schedule {
  ScheduleKind kind = ScheduleKind::constant;
  double base_lr = 0.01;
  int step_size = 1;     ///< step: epochs between decays
  double gamma = 0.1;    ///< step: decay factor
  double min_lr = 0.0;   ///< cosine: final rate
  int total_epochs = 1;  ///< cosine: length of the schedule

  /// Returns the learning rate for `epoch` (0-based).
  double lr_at(int epoch) const;
};

}  // namespace ag::nn
