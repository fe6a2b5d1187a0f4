// The sections about the checkpoint's model on the test set: the confusion matrix and the misclassified digits.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "apps/report/html.h"
#include "apps/report/pictures.h"
#include "apps/report/sections.h"

namespace ag::app {

namespace {

constexpr const char* kNoModel = R"(<p class="note">No checkpoint yet.</p>)";

/// Returns the CSS colour `t` of the way from white to (r, g, b).
std::string blend(double t, int r, int g, int b) {
  const auto mix = [&](int c) { return static_cast<int>(std::lround(255 + (c - 255) * std::clamp(t, 0.0, 1.0))); };
  return fmt::format("rgb({},{},{})", mix(r), mix(g), mix(b));
}

std::string heat_map(const std::array<std::array<std::int64_t, 10>, 10>& confusion) {
  constexpr int kCell = 38, kLeft = 64, kTop = 54, kErrorColumn = 84;
  std::int64_t max_off = 0;
  for (std::size_t t = 0; t < 10; ++t)
    for (std::size_t p = 0; p < 10; ++p)
      if (t != p) max_off = std::max(max_off, confusion[t][p]);
  const int width = kLeft + 10 * kCell + kErrorColumn, height = kTop + 10 * kCell + 8;
  std::string svg = fmt::format(
      R"(<svg class="heatmap" viewBox="0 0 {0} {1}" width="{0}" height="{1}" role="img" aria-label="confusion matrix">)"
      R"(<text class="axis-label" x="{2}" y="14" text-anchor="middle">predicted class</text>)"
      R"~(<text class="axis-label" transform="translate(16 {3}) rotate(-90)" text-anchor="middle">true class</text>)~"
      R"(<text class="axis-label" x="{4}" y="{5}" text-anchor="middle">error</text>)",
      width, height, kLeft + 5 * kCell, kTop + 5 * kCell, kLeft + 10 * kCell + kErrorColumn / 2, kTop - 12);
  for (int c = 0; c < 10; ++c)
    svg += fmt::format(R"(<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>)",
                       kLeft + c * kCell + kCell / 2, kTop - 12, c, kLeft - 8, kTop + c * kCell + kCell / 2 + 4, c);
  for (std::size_t t = 0; t < 10; ++t) {
    std::int64_t row = 0;
    for (const std::int64_t n : confusion[t]) row += n;
    for (std::size_t p = 0; p < 10; ++p) {
      const std::int64_t n = confusion[t][p];
      // The diagonal is shaded by the share of its row, the errors by their count against the largest error.
      const double shade = t == p ? (row > 0 ? static_cast<double>(n) / static_cast<double>(row) : 0)
                                  : (max_off > 0 ? static_cast<double>(n) / static_cast<double>(max_off) : 0);
      const std::string fill = t == p ? blend(shade, 49, 130, 189) : blend(shade, 214, 39, 40);
      const int x = kLeft + static_cast<int>(p) * kCell, y = kTop + static_cast<int>(t) * kCell;
      svg += fmt::format(
          R"(<g class="cell" data-true="{0}" data-predicted="{1}" data-count="{2}"><rect x="{3}" y="{4}" width="{5}" height="{5}" fill="{6}"/>)"
          R"(<text x="{7}" y="{8}" text-anchor="middle" class="{9}">{2}</text><title>true {0}, predicted {1}: {2}</title></g>)",
          t, p, n, x, y, kCell, fill, x + kCell / 2, y + kCell / 2 + 4, n == 0 ? "zero" : shade > 0.6 ? "light" : "dark");
    }
    const double error = row > 0 ? 1.0 - static_cast<double>(confusion[t][t]) / static_cast<double>(row) : 0.0;
    svg += fmt::format(R"(<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>)",
                       kLeft + 10 * kCell + kErrorColumn / 2, kTop + static_cast<int>(t) * kCell + kCell / 2 + 4,
                       row > 0 ? html::percent(error) : "-");
  }
  return svg + "</svg>";
}

std::string mistake_figure(const Mistake& m, std::int64_t cols, std::int64_t rows) {
  const ClassScores& s = m.scores;
  const double confidence = s.probability[static_cast<std::size_t>(s.predicted)];
  const double runner = s.probability[static_cast<std::size_t>(s.runner_up)];
  return fmt::format(
      R"(<figure class="mistake" data-index="{0}" data-margin="{1:.6g}" data-true="{2}" data-predicted="{3}">{4})"
      R"(<figcaption><b>{2}</b>&rarr;<b class="wrong">{3}</b> {5}<br><span class="second">2nd {6} {7}</span></figcaption></figure>)",
      m.index, s.margin, m.label, s.predicted,
      img_tag(digit_image(m.pixels, cols, rows), 2,
              fmt::format("test #{}: true {}, predicted {} ({:.1f} %), runner-up {} ({:.1f} %), margin {:.3g}", m.index,
                          m.label, s.predicted, 100 * confidence, s.runner_up, 100 * runner, s.margin)),
      fmt::format("{:.0f}%", 100 * confidence), s.runner_up, fmt::format("{:.0f}%", 100 * runner));
}

}  // namespace

std::string confusion_section(const ReportData& d) {
  if (!d.model) return section("confusion", "Confusion matrix", kNoModel);
  std::int64_t errors = 0;
  for (std::size_t t = 0; t < 10; ++t)
    for (std::size_t p = 0; p < 10; ++p) errors += t == p ? 0 : d.model->confusion[t][p];
  const std::string body = fmt::format(
      "<p>The checkpoint's model on the {} test digits: {} errors ({}). Rows are the true class, columns the "
      "predicted one; the diagonal is shaded by its share of the row, the errors by their count.</p>{}",
      d.model->test_samples, errors,
      html::percent(d.model->test_samples > 0 ? static_cast<double>(errors) / static_cast<double>(d.model->test_samples) : 0),
      heat_map(d.model->confusion));
  return section("confusion", "Confusion matrix", body);
}

std::string mistakes_section(const ReportData& d, std::size_t max_shown) {
  if (!d.model) return section("misclassified", "Misclassified test digits", kNoModel);
  const auto& all = d.model->mistakes;
  std::vector<const Mistake*> shown;
  for (std::size_t i = 0; i < all.size() && i < max_shown; ++i) shown.push_back(&all[i]);
  // Most confident mistakes first: they say most about what the network learned wrong.
  std::stable_sort(shown.begin(), shown.end(),
                   [](const Mistake* a, const Mistake* b) { return a->scores.margin > b->scores.margin; });
  std::string body = fmt::format(
      "<p>{} of {} test digits are misclassified{}. Each shows the true class &rarr; the predicted one with its "
      "probability, and the runner-up. Confidence is the margin of the predicted class over the runner-up (in "
      "logits, or RBF distances), which keeps an order where probabilities round to 100 %.</p>",
      all.size(), d.model->test_samples,
      shown.size() < all.size() ? fmt::format("; the first {} in test order are shown", shown.size()) : "");
  body += R"(<p class="sort">Order: <button type="button" data-sort="confidence-desc" class="on">most confident first</button>)"
          R"( <button type="button" data-sort="confidence-asc">least confident first</button>)"
          R"( <button type="button" data-sort="index">test order</button></p><div class="gallery" id="mistake-gallery">)";
  for (const Mistake* m : shown) body += mistake_figure(*m, d.model->image_cols, d.model->image_rows);
  body += "</div>";
  return section("misclassified", "Misclassified test digits", body,
                 fmt::format(R"(data-total="{}" data-shown="{}")", all.size(), shown.size()));
}

}  // namespace ag::app
