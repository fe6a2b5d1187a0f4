// The report of a real short run (the tiny_run CTest fixture: train_lenet on MNIST) in headless Chromium:
// it loads with no console error and no request, shows the expected sections and counts (as many misclassified
// digits as summary.json's test error says), its sort buttons work, and a screenshot is not blank.
// scripts/page_check.js drives the browser over the DevTools protocol.
#include <doctest/doctest.h>

#include <apps/image/image_file.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <set>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace {

const std::filesystem::path kRun = LENETGRAD_TINY_RUN;

// Evaluated in the page, in order; each returns what the test checks.
const char* const kSections = "Array.from(document.querySelectorAll('section')).map(s => s.id)";
const char* const kCounts = R"js(({
  shown: document.querySelectorAll('#misclassified figure.mistake').length,
  total: Number(document.getElementById('misclassified').dataset.total),
  off_diagonal: Array.from(document.querySelectorAll('#confusion g.cell'))
      .filter(c => c.dataset.true !== c.dataset.predicted).reduce((n, c) => n + Number(c.dataset.count), 0),
  cells: document.querySelectorAll('#confusion g.cell').length,
  traces: document.querySelectorAll('#activations .trace').length,
  kernels: document.querySelectorAll('#kernels img').length,
  codes: document.querySelectorAll('#codes figure.code').length,
  epochs: document.querySelectorAll('#curves table.metrics tr').length - 1,
  charts: document.querySelectorAll('svg.chart').length,
  broken_images: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length,
  images: document.images.length
}))js";
const char* const kSortAscending = R"js((() => {
  document.querySelector('button[data-sort="confidence-asc"]').click();
  return Array.from(document.querySelectorAll('#misclassified figure.mistake')).map(f => Number(f.dataset.margin));
})())js";

double fraction_not_white(const ag::image::Image& shot) {
  std::int64_t inked = 0;
  for (std::int64_t y = 0; y < shot.height; ++y)
    for (std::int64_t x = 0; x < shot.width; ++x) inked += shot.at(x, y, 0) < 200 || shot.at(x, y, 2) < 200;
  return static_cast<double>(inked) / static_cast<double>(shot.width * shot.height);
}

}  // namespace

TEST_CASE("train_lenet's report.html loads in Chromium with no error or request and counts what summary.json says") {
  const auto page = kRun / "report.html";
  REQUIRE(std::filesystem::exists(page));
  CHECK(std::filesystem::file_size(page) < 5'000'000);
  const auto summary = nlohmann::json::parse(std::ifstream(kRun / "summary.json"));
  const auto config = nlohmann::json::parse(std::ifstream(kRun / "config.json"));
  const auto test_samples = config["data"]["test_limit"].get<std::int64_t>();
  const auto errors = std::llround(summary["test_error"].get<double>() * static_cast<double>(test_samples));
  REQUIRE(errors > 0);

  test::TempDir dir;
  const auto shot_path = dir / "shot.png";
  const auto result = test::run_command({"node", LENETGRAD_PAGE_CHECK, page.string(), "--screenshot", shot_path.string(),
                                         "--width", "1280", "--height", "1000", "--eval", kSections, "--eval", kCounts,
                                         "--eval", kSortAscending});
  REQUIRE_MESSAGE(result.status == 0, result.err);
  const auto report = nlohmann::json::parse(result.out);
  CHECK_MESSAGE(report["console_errors"].empty(), report["console_errors"].dump());
  CHECK_MESSAGE(report["requests"].empty(), report["requests"].dump());
  CHECK(report["evals"][0] == nlohmann::json({"overview", "curves", "confusion", "misclassified", "kernels",
                                              "activations", "codes", "timing"}));
  const auto& counts = report["evals"][1];
  CHECK(counts["shown"] == errors);
  CHECK(counts["total"] == errors);
  CHECK(counts["off_diagonal"] == errors);
  CHECK(counts["cells"] == 100);
  CHECK(counts["traces"] == 10);
  CHECK(counts["kernels"] == 6);
  CHECK(counts["codes"] == 10);
  CHECK(counts["epochs"] == summary["epochs"]);
  CHECK(counts["charts"] == 5);
  CHECK(counts["broken_images"] == 0);
  CHECK(counts["images"].get<int>() > errors);
  const auto margins = report["evals"][2].get<std::vector<double>>();
  CHECK(static_cast<std::int64_t>(margins.size()) == errors);
  CHECK(std::is_sorted(margins.begin(), margins.end()));

  const auto shot = ag::image::read_image_file(shot_path);
  CHECK(shot.width == 1280);
  CHECK(shot.height == 1000);
  const double inked = fraction_not_white(shot);
  MESSAGE("screenshot: " << 100 * inked << " % of its pixels are not white");
  CHECK(inked > 0.02);
  CHECK(inked < 0.9);
}

TEST_CASE("evaluate_lenet --report writes the same report for the run's checkpoint") {
  test::TempDir dir;
  const auto out = dir / "again.html";
  const auto result = test::run_command({LENETGRAD_EVALUATE_LENET, "--run", kRun.string(), "--report", out.string()});
  REQUIRE_MESSAGE(result.status == 0, result.err);
  std::ostringstream a, b;
  a << std::ifstream(out).rdbuf();
  b << std::ifstream(kRun / "report.html").rdbuf();
  // Equal but for the time each was made, in the footer.
  const auto body = [](const std::string& page) { return page.substr(0, page.find("<footer>")); };
  CHECK(body(a.str()) == body(b.str()));
  CHECK_FALSE(std::filesystem::exists(dir / "again.html.partial"));
}
