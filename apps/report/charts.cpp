#include "apps/report/charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "apps/report/html.h"

namespace ag::app {

namespace {

constexpr double kLeft = 62, kRight = 14, kTop = 30, kBottom = 40;

struct Range {
  double lo = 0, hi = 1;
};

// The least value a log axis shows: smaller positive values (denormals, which a damaged metrics file may hold) have
// decades that round to 0.
constexpr double kLeastLog = 1e-300;

/// The smallest of 1, 2, 5 times a power of ten that is at least `raw`.
double nice_step(double raw) {
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw * (1 - 1e-9)) return m * power;
  return 10 * power;
}

Range x_range(const std::vector<Series>& series) {
  Range r{std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest()};
  for (const auto& s : series)
    for (const double x : s.x) r.lo = std::min(r.lo, x), r.hi = std::max(r.hi, x);
  if (r.lo > r.hi) return {0, 1};
  if (r.lo == r.hi) return {r.lo - 0.5, r.hi + 0.5};
  return r;
}

Range y_range(const std::vector<Series>& series, bool log) {
  double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
  for (const auto& s : series)
    for (const double y : s.y)
      if (std::isfinite(y) && (!log || y >= kLeastLog)) lo = std::min(lo, y), hi = std::max(hi, y);
  if (lo > hi) return log ? Range{1e-4, 1} : Range{0, 1};
  if (log) {
    // Decades that a double holds: a bound of 0 or infinity would give an endless run of ticks.
    Range r{std::max(std::pow(10.0, std::floor(std::log10(lo))), kLeastLog),
            std::min(std::pow(10.0, std::ceil(std::log10(hi))), std::numeric_limits<double>::max())};
    if (r.hi <= r.lo) r.hi = r.lo * 10;
    return r;
  }
  lo = std::min(lo, 0.0);
  if (hi <= lo) hi = lo + 1;
  const double step = nice_step((hi - lo) / 5);
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step};
}

std::string tick_label(double value, bool percent) {
  return percent ? html::number(100 * value, 3) + "%" : html::number(value, 3);
}

}  // namespace

std::vector<double> axis_ticks(double lo, double hi, bool log) {
  std::vector<double> ticks;
  if (!(hi > lo)) return {lo};
  if (log) {
    // Counted decades: from 0, to infinity or near the largest double, a loop until a decade passed `hi` never ended.
    if (!(lo > 0 && std::isfinite(hi))) return {lo};
    const bool fine = hi / lo <= 1000;
    const auto decades = static_cast<int>(std::log10(hi) - std::log10(lo) + 1e-9);  // at most 632
    double decade = lo;
    for (int d = 0; d <= decades; ++d, decade *= 10)
      for (const double m : {1.0, 2.0, 5.0})
        if ((m == 1.0 || fine) && decade * m / hi <= 1 + 1e-9) ticks.push_back(decade * m);
    return ticks;
  }
  const double step = nice_step((hi - lo) / 5);
  // Whole multiples of the step, so that 2 is 2 and not 1.9999999, and no tick reads -0.
  for (auto k = static_cast<std::int64_t>(std::ceil(lo / step - 1e-9)); static_cast<double>(k) * step <= hi + step * 1e-9; ++k)
    ticks.push_back(k == 0 ? 0.0 : static_cast<double>(k) * step);
  return ticks;
}

std::string line_chart(const std::vector<Series>& series, const ChartOptions& o) {
  const Range xr = x_range(series), yr = y_range(series, o.log_y);
  const double pw = o.width - kLeft - kRight, ph = o.height - kTop - kBottom;
  const auto px = [&](double x) { return kLeft + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  const auto py = [&](double y) {
    const double t = o.log_y ? (std::log10(std::max(y, yr.lo)) - std::log10(yr.lo)) / (std::log10(yr.hi) - std::log10(yr.lo))
                             : (y - yr.lo) / (yr.hi - yr.lo);
    return kTop + (1 - t) * ph;
  };
  std::string svg = fmt::format(
      R"(<svg class="chart" viewBox="0 0 {0} {1}" width="{0}" height="{1}" role="img" aria-label="{2}">)"
      R"(<text class="chart-title" x="{3}" y="18">{2}</text>)",
      o.width, o.height, html::escape(o.title), kLeft);
  for (const double t : axis_ticks(yr.lo, yr.hi, o.log_y))
    svg += fmt::format(R"(<line class="grid" x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}"/><text class="tick" x="{3}" y="{4:.1f}" text-anchor="end">{5}</text>)",
                       kLeft, kLeft + pw, py(t), kLeft - 6, py(t) + 4, tick_label(t, o.percent));
  for (const double t : axis_ticks(xr.lo, xr.hi, false))
    if (t == std::floor(t) && t >= xr.lo && t <= xr.hi)  // epochs are whole numbers
      svg += fmt::format(R"(<text class="tick" x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", px(t), kTop + ph + 16,
                         html::number(t, 6));
  svg += fmt::format(R"(<rect class="frame" x="{}" y="{}" width="{}" height="{}"/>)", kLeft, kTop, pw, ph);
  svg += fmt::format(R"(<text class="axis-label" x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", kLeft + pw / 2,
                     o.height - 6, html::escape(o.x_label));
  svg += fmt::format(R"~(<text class="axis-label" transform="translate(14 {:.1f}) rotate(-90)" text-anchor="middle">{}</text>)~",
                     kTop + ph / 2, html::escape(o.y_label));
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    std::string points, dots;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      points += fmt::format("{:.1f},{:.1f} ", px(s.x[i]), py(s.y[i]));
      dots += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"><title>{}, {} {}: {}</title></circle>)",
                          px(s.x[i]), py(s.y[i]), s.colour, html::escape(s.name), html::escape(o.x_label),
                          html::number(s.x[i], 6), tick_label(s.y[i], o.percent));
    }
    svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.8" points="{}"/>{})", s.colour, points, dots);
    const double ly = kTop + 12 + 14 * static_cast<double>(k);
    svg += fmt::format(R"(<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="{3}" stroke-width="2"/><text class="legend" x="{4}" y="{5:.1f}">{6}</text>)",
                       kLeft + pw - 110, kLeft + pw - 92, ly, s.colour, kLeft + pw - 88, ly + 4, html::escape(s.name));
  }
  return svg + "</svg>";
}

}  // namespace ag::app
