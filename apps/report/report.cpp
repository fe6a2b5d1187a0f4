#include "apps/report/report.h"

#include <fmt/format.h>

#include "apps/report/html.h"
#include "apps/report/sections.h"
#include "apps/train/file_output.h"
#include "autograd/error.h"

namespace ag::app {

namespace {

// The page may load nothing: only inline styles, inline scripts and data: images.
constexpr const char* kPolicy =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

constexpr const char* kStyle = R"css(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0 auto; max-width: 1220px; padding: 0 16px 40px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 18px; margin: 0 0 8px; border-bottom: 1px solid #ddd; } h3 { font-size: 14px; margin: 4px 0; }
nav { font-size: 13px; margin: 6px 0 12px; } nav a { margin-right: 12px; color: #1a5fb4; }
section { margin: 18px 0 26px; } .note { color: #777; font-style: italic; } .status { font-size: 15px; }
table { border-collapse: collapse; font-size: 12.5px; } td, th { padding: 2px 8px; text-align: left; border-bottom: 1px solid #eee; }
table.metrics td { text-align: right; } table.config { columns: 3; display: block; } table.config tr { display: block; break-inside: avoid; }
.columns { display: flex; gap: 28px; flex-wrap: wrap; align-items: flex-start; }
.charts { display: flex; gap: 10px; flex-wrap: wrap; } svg text { font-size: 11px; fill: #333; }
.chart-title { font-weight: 600; font-size: 12px; } .grid { stroke: #eee; } .frame { fill: none; stroke: #999; }
.tick { fill: #555; } .legend { font-size: 11px; } .heatmap text.light { fill: #fff; } .heatmap text.zero { fill: #bbb; }
img.px { image-rendering: pixelated; image-rendering: crisp-edges; border: 1px solid #ddd; margin: 1px; }
.gallery { display: flex; flex-wrap: wrap; gap: 4px; } figure { margin: 0; text-align: center; font-size: 11px; }
figure.mistake { width: 66px; } .wrong { color: #c01c28; } .second { color: #777; }
.sort button { font: inherit; font-size: 12px; border: 1px solid #aaa; background: #f6f6f6; border-radius: 3px; cursor: pointer; }
.sort button.on { background: #1a5fb4; color: #fff; border-color: #1a5fb4; }
.kernels img, .codes img { margin-right: 6px; } .codes { display: flex; gap: 8px; }
.trace { display: flex; gap: 14px; align-items: flex-start; padding: 6px 0; border-bottom: 1px solid #eee; }
.layer-name { font-size: 11px; color: #555; white-space: nowrap; } .maps { display: grid; gap: 1px; }
.verdict { font-size: 22px; font-weight: 600; } .verdict.right { color: #26a269; } .verdict.wrong { color: #c01c28; }
footer { color: #888; font-size: 12px; margin-top: 30px; }
)css";

// Reorders the misclassified digits; the page reads fully without it (the default order is written in place).
constexpr const char* kScript = R"js(
document.querySelectorAll('button[data-sort]').forEach(function (button) {
  button.addEventListener('click', function () {
    var gallery = document.getElementById('mistake-gallery');
    var key = button.dataset.sort;
    var items = Array.prototype.slice.call(gallery.children);
    items.sort(function (a, b) {
      var ca = Number(a.dataset.margin), cb = Number(b.dataset.margin);
      var order = key === 'index' ? 0 : key === 'confidence-asc' ? ca - cb : cb - ca;
      return order !== 0 ? order : Number(a.dataset.index) - Number(b.dataset.index);
    });
    items.forEach(function (item) { gallery.appendChild(item); });
    document.querySelectorAll('button[data-sort]').forEach(function (b) { b.classList.toggle('on', b === button); });
  });
});
)js";

std::string navigation(const std::vector<std::pair<std::string, std::string>>& links) {
  std::string out = "<nav>";
  for (const auto& [id, title] : links) out += fmt::format(R"(<a href="#{}">{}</a>)", id, title);
  return out + "</nav>";
}

}  // namespace

std::string render_report(const ReportData& d) {
  const std::string codes = codes_section(d), distortions = distortions_section(d);
  const std::vector<std::string> sections = {
      overview_section(d), curves_section(d), confusion_section(d), mistakes_section(d), kernels_section(d),
      activations_section(d), codes, distortions, timing_section(d)};
  std::vector<std::pair<std::string, std::string>> links = {
      {"overview", "Run"}, {"curves", "Learning curves"}, {"confusion", "Confusion matrix"},
      {"misclassified", "Misclassified"}, {"kernels", "Kernels"}, {"activations", "Activations"}};
  if (!codes.empty()) links.emplace_back("codes", "Output codes");
  if (!distortions.empty()) links.emplace_back("distortions", "Distortions");
  links.emplace_back("timing", "Timing");
  std::string page = fmt::format(
      R"(<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">)"
      R"(<meta http-equiv="Content-Security-Policy" content="{}"><meta name="viewport" content="width=device-width, initial-scale=1">)"
      R"(<title>LeNet-5 run report: {}</title><style>{}</style></head><body><h1>LeNet-5 run report: <code>{}</code></h1>{})",
      kPolicy, html::escape(d.run_dir), kStyle, html::escape(d.run_dir), navigation(links));
  for (const auto& s : sections) page += s;
  page += fmt::format("<footer>Made by lenetgrad from {} on {}.</footer><script>{}</script></body></html>\n",
                      html::escape(d.run_dir), html::escape(d.generated_at), kScript);
  return page;
}

void write_report(const std::filesystem::path& run_dir, const std::filesystem::path& out, const ReportOptions& options) {
  const std::string page = render_report(gather_report(run_dir, options));
  try {
    write_output_file(out, page);
  } catch (const Error& e) {
    throw Error(fmt::format("report: {}", e.what()));
  }
}

}  // namespace ag::app
