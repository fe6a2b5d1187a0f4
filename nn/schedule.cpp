#include "nn/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "autograd/error.h"

namespace ag::nn {

ScheduleKind parse_schedule(std::string_view name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "paper") return ScheduleKind::paper;
  if (name == "step") return ScheduleKind::step;
  if (name == "cosine") return ScheduleKind::cosine;
  fail("schedule", "unknown schedule \"{}\"; expected constant, paper, step or cosine", name);
}

double Schedule::lr_at(int epoch) const {
  switch (kind) {
    case ScheduleKind::constant: return base_lr;
    case ScheduleKind::paper: {
      // The paper's global rates 0.0005, 0.0002, 0.0001, 0.00005, 0.00001 as multiples of the first.
      const double multiplier = epoch < 2 ? 1.0 : epoch < 5 ? 0.4 : epoch < 8 ? 0.2 : epoch < 12 ? 0.1 : 0.02;
      return base_lr * multiplier;
    }
    case ScheduleKind::step: return base_lr * std::pow(gamma, epoch / std::max(1, step_size));
    case ScheduleKind::cosine: {
      const double progress = std::min(1.0, static_cast<double>(epoch) / std::max(1, total_epochs));
      return min_lr + (base_lr - min_lr) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
    }
  }
  return base_lr;
}

}  // namespace ag::nn
