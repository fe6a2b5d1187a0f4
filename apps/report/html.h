#pragma once
/// Small helpers for writing HTML and SVG text by hand.
#include <string>
#include <string_view>

namespace ag::app::html {

/// Returns `text` with &, <, >, " and ' replaced by character references (safe in text and attributes).
std::string escape(std::string_view text);

/// Returns a number for people: up to `digits` significant digits (all digits of a larger whole number), with
/// an exponent only below 1e-4.
std::string number(double value, int digits = 4);

/// Returns a fraction as a percentage with two decimals, e.g. 0.0095 -> "0.95 %".
std::string percent(double fraction);

}  // namespace ag::app::html
