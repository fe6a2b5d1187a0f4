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

namespace {

/// The rate of `schedule` at `position` epochs, before its warm-up.
double scheduled(const Schedule& schedule, double position) {
  const auto epoch = static_cast<int>(std::floor(position));
  switch (schedule.kind) {
    case ScheduleKind::constant: return schedule.base_lr;
    case ScheduleKind::paper: {
      // The paper's global rates 0.0005, 0.0002, 0.0001, 0.00005, 0.00001 as multiples of the first.
      const double multiplier = epoch < 2 ? 1.0 : epoch < 5 ? 0.4 : epoch < 8 ? 0.2 : epoch < 12 ? 0.1 : 0.02;
      return schedule.base_lr * multiplier;
    }
    case ScheduleKind::step: return schedule.base_lr * std::pow(schedule.gamma, epoch / std::max(1, schedule.step_size));
    case ScheduleKind::cosine: {
      // Half a cosine from base_lr at the end of the warm-up down to min_lr at total_epochs.
      const double length = std::max(1e-9, schedule.total_epochs - schedule.warmup_epochs);
      const double progress = std::clamp((position - schedule.warmup_epochs) / length, 0.0, 1.0);
      return schedule.min_lr + (schedule.base_lr - schedule.min_lr) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
    }
  }
  return schedule.base_lr;
}

}  // namespace

double Schedule::lr_at(double position) const {
  const double rate = scheduled(*this, position);
  return position < warmup_epochs ? rate * position / warmup_epochs : rate;
}

}  // namespace ag::nn
