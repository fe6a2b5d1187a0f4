#pragma once
/// Line charts as inline SVG: learning curves, learning rate, throughput per epoch.
#include <string>
#include <vector>

namespace ag::app {

/// One line of a chart: points (x[i], y[i]).
struct Series {
  std::string name;    ///< shown in the legend
  std::string colour;  ///< a CSS colour
  std::vector<double> x;
  std::vector<double> y;
};

/// How a chart is drawn.
struct ChartOptions {
  std::string title;
  std::string x_label = "epoch";
  std::string y_label;
  bool log_y = false;    ///< a logarithmic y axis (values <= 0 are drawn at its bottom edge)
  bool percent = false;  ///< y values are fractions, labelled as percentages
  int width = 390;  // three side by side on the page
  int height = 250;
};

/// Returns an <svg> chart of `series` with axes, ticks, a legend and a dot at every point.
std::string line_chart(const std::vector<Series>& series, const ChartOptions& options);

/// Returns the tick values of an axis over [lo, hi]: powers of ten (with 2 and 5 between them when the
/// range spans few decades) for a log axis, "nice" steps of 1, 2 or 5 times a power of ten otherwise.
std::vector<double> axis_ticks(double lo, double hi, bool log);

}  // namespace ag::app
