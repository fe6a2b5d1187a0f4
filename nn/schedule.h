#pragma once
/// Learning-rate schedules: the rate at each point of training (in epochs, 0-based, fractional), from a base rate.
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
  /// A linear warm-up over this many epochs first: the rate is multiplied by position / warmup_epochs until then,
  /// and a cosine runs over the epochs after it.
  double warmup_epochs = 0.0;

  /// Returns the learning rate at `position`, in epochs from the start (0-based: epoch 2.5 is the middle of the
  /// third). The paper's and step schedules change at whole epochs; a cosine and a warm-up change continuously,
  /// for a trainer that sets the rate at every batch.
  double lr_at(double position) const;
};

}  // namespace ag::nn
