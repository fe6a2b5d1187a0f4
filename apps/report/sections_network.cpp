// The sections about the network itself: the first layer's kernels, every layer's activations for one digit of
// each class, the RBF output codes, and distorted training samples.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "apps/report/html.h"
#include "apps/report/pictures.h"
#include "apps/report/sections.h"
#include "models/digit_codes.h"

namespace ag::app {

namespace {

constexpr double kMapPixels = 42;  // the displayed side of a feature map
constexpr double kUnitPixels = 4;  // the displayed side of one unit of a vector layer

/// The columns and rows a vector of n units is drawn as: F6's 84 as the 7x12 of the digit codes, short vectors
/// (the 10 outputs) as one row, others as a near-square block.
std::pair<std::int64_t, std::int64_t> vector_layout(std::int64_t n) {
  if (n == models::kCodeWidth * models::kCodeHeight) return {models::kCodeWidth, models::kCodeHeight};
  if (n <= 10) return {n, 1};
  std::int64_t cols = static_cast<std::int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  while (n % cols != 0 && cols < n) ++cols;  // a divisor when one is near, so no cell is left blank
  return {cols, (n + cols - 1) / cols};
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  if (shape.size() == 3) return fmt::format("{}@{}x{}", shape[0], shape[1], shape[2]);
  return fmt::format("{}", shape.empty() ? 0 : shape[0]);
}

/// One layer's activations for one digit: its maps in a near-square grid, or its vector as a block.
std::string layer_cell(const LayerActivation& a, double lo, double hi) {
  std::string out = fmt::format(R"(<div class="layer" data-layer="{}"><div class="layer-name">{} {}</div>)",
                                html::escape(a.name), html::escape(a.name), shape_text(a.shape));
  if (a.shape.size() == 3 && a.shape[1] * a.shape[2] > 1) {
    const std::int64_t maps = a.shape[0], rows = a.shape[1], cols = a.shape[2];
    const auto grid = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(maps))));
    out += fmt::format(R"~(<div class="maps" style="grid-template-columns: repeat({}, auto)">)~", grid);
    for (std::int64_t m = 0; m < maps; ++m)
      out += img_tag(grey_image(std::span(a.values).subspan(static_cast<std::size_t>(m * rows * cols),
                                                              static_cast<std::size_t>(rows * cols)),
                                cols, rows, lo, hi),
                     kMapPixels / static_cast<double>(std::max(rows, cols)), fmt::format("{} map {}", a.name, m));
    out += "</div>";
  } else {
    const auto [cols, rows] = vector_layout(static_cast<std::int64_t>(a.values.size()));
    std::vector<double> padded = a.values;
    padded.resize(static_cast<std::size_t>(cols * rows), lo);
    out += img_tag(grey_image(padded, cols, rows, lo, hi), a.values.size() <= 10 ? 2 * kUnitPixels : kUnitPixels,
                   fmt::format("{}: {} units", a.name, a.values.size()));
  }
  return out + "</div>";
}

}  // namespace

std::string kernels_section(const ReportData& d) {
  if (!d.model || d.model->kernel_shape.size() != 4)
    return section("kernels", "First-layer kernels", R"(<p class="note">No checkpoint yet.</p>)");
  const auto& shape = d.model->kernel_shape;
  const std::int64_t k = shape[2] * shape[3];
  double limit = 0;
  for (const double w : d.model->kernels) limit = std::max(limit, std::fabs(w));
  std::string body = fmt::format(
      "<p>The {} kernels of <code>{}</code> [{}x{}x{}x{}], red positive, blue negative, white zero "
      "(full colour at |w| = {}).</p><div class=\"kernels\">",
      shape[0] * shape[1], html::escape(d.model->kernel_name), shape[0], shape[1], shape[2], shape[3], html::number(limit, 3));
  for (std::int64_t i = 0; i < shape[0] * shape[1]; ++i)
    body += img_tag(diverging_image(std::span(d.model->kernels).subspan(static_cast<std::size_t>(i * k), static_cast<std::size_t>(k)),
                                    shape[3], shape[2], limit),
                    10, fmt::format("kernel {}", i));
  return section("kernels", "First-layer kernels", body + "</div>");
}

std::string activations_section(const ReportData& d) {
  if (!d.model || d.model->traces.empty())
    return section("activations", "Activations, layer by layer", R"(<p class="note">No checkpoint yet.</p>)");
  // One grey scale per layer for all digits, so that rows can be compared: white at the layer's smallest value.
  std::map<std::string, std::pair<double, double>> range;
  for (const auto& t : d.model->traces)
    for (const auto& a : t.layers) {
      if (a.values.empty()) continue;
      auto [it, fresh] = range.try_emplace(a.name, a.values.front(), a.values.front());
      for (const double v : a.values) it->second = {std::min(it->second.first, v), std::max(it->second.second, v)};
    }
  std::string body =
      "<p>The first test digit of each class and what every layer makes of it (after its activation function), "
      "each layer on its own grey scale shared by all rows: white its smallest value, black its largest. The "
      "output row is classes 0 to 9 from the left: logits, largest for the predicted class, or RBF distances, "
      "smallest for it.</p>";
  for (const auto& t : d.model->traces) {
    body += fmt::format(R"(<div class="trace" data-label="{}"><div class="layer"><div class="layer-name">test #{}: {}</div>{}</div>)",
                        t.label, t.index, t.label,
                        img_tag(digit_image(t.pixels, d.model->image_cols, d.model->image_rows), 2, fmt::format("test #{}", t.index)));
    for (const auto& a : t.layers) body += layer_cell(a, range[a.name].first, range[a.name].second);
    body += fmt::format(R"(<div class="layer"><div class="layer-name">predicted</div><div class="verdict {}">{}</div></div></div>)",
                        t.predicted == t.label ? "right" : "wrong", t.predicted);
  }
  return section("activations", "Activations, layer by layer", body);
}

std::string codes_section(const ReportData& d) {
  const std::string variant = d.model ? d.model->variant : d.files.config.value("model", nlohmann::json::object()).value("variant", "");
  if (variant != "lecun1998") return "";
  const std::vector<double> bitmaps = models::digit_codes(DType::f64).to_vector();
  // The model's own centres when there is a checkpoint (model.codes may have drawn them at random), else the bitmaps.
  const std::vector<double>& codes = d.model && !d.model->codes.empty() ? d.model->codes : bitmaps;
  std::string body =
      codes == bitmaps
          ? "<p>The fixed centres of the RBF output units: a stylised 7x12 bitmap of each digit (+1 inked, -1 blank). "
            "An output unit's value is the squared distance of F6's 84 activations to its code, so F6 above learns "
            "to draw the code of the digit it sees.</p><div class=\"codes\">"
          : "<p>The fixed centres of the RBF output units, drawn at random (model.codes = random): 84 values of +1 "
            "or -1 per digit, shown as 7x12 like the paper's bitmaps. An output unit's value is the squared "
            "distance of F6's 84 activations to its code.</p><div class=\"codes\">";
  constexpr std::size_t kCode = models::kCodeWidth * models::kCodeHeight;
  for (std::size_t digit = 0; digit < 10; ++digit) {
    const std::vector<double> values(codes.begin() + static_cast<std::ptrdiff_t>(digit * kCode),
                                     codes.begin() + static_cast<std::ptrdiff_t>((digit + 1) * kCode));
    body += fmt::format(R"(<figure class="code">{}<figcaption>{}</figcaption></figure>)",
                        img_tag(grey_image(values, models::kCodeWidth, models::kCodeHeight, -1, 1), 6, fmt::format("code of {}", digit)),
                        digit);
  }
  return section("codes", "Output codes", body + "</div>");
}

std::string image_grid(std::span<const image::Image> samples) {
  std::string out = R"(<div class="gallery">)";
  for (std::size_t i = 0; i < samples.size(); ++i) out += img_tag(samples[i], 2, fmt::format("sample {}", i));
  return out + "</div>";
}

std::string distortions_section(const ReportData& d) {
  if (!d.distortions_enabled) return "";
  const std::string body = d.distorted.empty()
                               ? R"(<p class="note">Distortions are enabled, but this build cannot draw samples of them.</p>)"
                               : fmt::format("<p>{} distorted training samples, as the network saw them.</p>{}",
                                             d.distorted.size(), image_grid(d.distorted));
  return section("distortions", "Distorted training samples", body);
}

}  // namespace ag::app
