#pragma once
/// The sections of the report page, each a function of the report's data returning one <section> of HTML
/// (or "" when it does not apply to the run). report.cpp puts them together.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "apps/image/image.h"
#include "apps/report/report_data.h"

namespace ag::app {

/// At most this many misclassified digits are drawn (the first ones in test order); the count says how many more.
inline constexpr std::size_t kMaxMistakesShown = 1000;

/// Returns <section id="ID"><h2>TITLE</h2>BODY</section>; `attributes` go into the opening tag as they are.
std::string section(std::string_view id, std::string_view title, std::string_view body, std::string_view attributes = "");

/// The run's status, its key settings, the summary and every config key.
std::string overview_section(const ReportData& data);
/// Train and test error (log scale) and loss per epoch, the learning rate, and the table of metrics.jsonl.
std::string curves_section(const ReportData& data);
/// Samples per second and seconds per epoch.
std::string timing_section(const ReportData& data);
/// The confusion matrix of the checkpoint's model on the test set, as a heat map with counts.
std::string confusion_section(const ReportData& data);
/// The misclassified test digits (up to `max_shown`) with true, predicted and runner-up class, sortable by confidence.
std::string mistakes_section(const ReportData& data, std::size_t max_shown = kMaxMistakesShown);
/// The first convolution's kernels.
std::string kernels_section(const ReportData& data);
/// One test digit of each class, and every layer's activations for it.
std::string activations_section(const ReportData& data);
/// The RBF output's 7x12 digit codes (lecun1998 only).
std::string codes_section(const ReportData& data);
/// A grid of distorted training samples (only when the config enables distortions).
std::string distortions_section(const ReportData& data);

/// Returns a grid of `samples` (grey or colour images of any size), each drawn three times its size.
std::string image_grid(std::span<const image::Image> samples);

}  // namespace ag::app
