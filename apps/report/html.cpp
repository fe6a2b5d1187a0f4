#include "apps/report/html.h"

#include <fmt/format.h>

#include <cmath>

namespace ag::app::html {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string number(double value, int digits) {
  if (!std::isfinite(value)) return fmt::format("{}", value);
  const double magnitude = std::fabs(value);
  if (magnitude >= std::pow(10.0, digits - 1) && magnitude < 1e15) return fmt::format("{:.0f}", value);  // 52341, not 5.234e+04
  return fmt::format("{:.{}g}", value, digits);  // 0.0002, and 2e-05 only when that small
}

std::string percent(double fraction) { return fmt::format("{:.2f} %", 100 * fraction); }

}  // namespace ag::app::html
