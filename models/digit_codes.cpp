#include "models/digit_codes.h"

#include "autograd/error.h"

namespace ag::models {

namespace {

// Drawn for this project (the paper's figure of its bitmaps is an image with no trusted transcription).
// Strokes are one pixel wide on a 7x12 grid with a blank top and bottom row, like a printed digit;
// a test checks that every two codes differ in at least 8 of the 84 positions (6 and 8 are the closest).
constexpr const char* kGlyphs[10][kCodeHeight] = {
    {".......", "..###..", ".#...#.", "#.....#", "#.....#", "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###..", "......."},
    {".......", "...#...", "..##...", ".#.#...", "...#...", "...#...", "...#...", "...#...", "...#...", "...#...", ".#####.", "......."},
    {".......", "..###..", ".#...#.", "#.....#", "......#", ".....#.", "....#..", "...#...", "..#....", ".#.....", "#######", "......."},
    {".......", ".####..", "#....#.", "......#", ".....#.", "..###..", ".....#.", "......#", "......#", "#....#.", ".####..", "......."},
    {".......", "....##.", "...#.#.", "..#..#.", ".#...#.", "#....#.", "#######", ".....#.", ".....#.", ".....#.", ".....#.", "......."},
    {".......", "#######", "#......", "#......", "#####..", ".....#.", "......#", "......#", "......#", "#....#.", ".####..", "......."},
    {".......", "..####.", ".#.....", "#......", "#......", "#.###..", "##...#.", "#.....#", "#.....#", ".#...#.", "..###..", "......."},
    {".......", "#######", "......#", ".....#.", "....#..", "...#...", "...#...", "..#....", "..#....", "..#....", "..#....", "......."},
    {".......", "..###..", ".#...#.", "#.....#", ".#...#.", "..###..", ".#...#.", "#.....#", "#.....#", ".#...#.", "..###..", "......."},
    {".......", "..###..", ".#...#.", "#.....#", "#.....#", ".#...##", "..###.#", "......#", ".....#.", "....#..", ".###...", "......."},
};

}  // namespace

const char* const* digit_glyph(int digit) {
  if (digit < 0 || digit > 9) fail("digit_glyph", "digit must be 0..9, got {}", digit);
  return kGlyphs[digit];
}

Tensor digit_codes(DType dtype) {
  std::vector<double> values;
  values.reserve(10 * kCodeWidth * kCodeHeight);
  for (const auto& glyph : kGlyphs)
    for (const char* row : glyph)
      for (std::int64_t col = 0; col < kCodeWidth; ++col) values.push_back(row[col] == '#' ? 1.0 : -1.0);
  return from_vector(values, {10, kCodeWidth * kCodeHeight}, dtype);
}

}  // namespace ag::models
