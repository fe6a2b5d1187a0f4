#include "models/connection_table.h"

#include <vector>

namespace ag::models {

ConnectionTable lenet5_c3_table() {
  // Table I of the paper: the S2 maps that each C3 map reads. The paper's purpose: bound the connections and
  // break the symmetry between maps.
  static const std::vector<std::vector<int>> reads = {
      {0, 1, 2},         {1, 2, 3},    {2, 3, 4},    {3, 4, 5},    {4, 5, 0},    {5, 0, 1},     // 3 inputs
      {0, 1, 2, 3},      {1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 0}, {4, 5, 0, 1}, {5, 0, 1, 2},  // 4 contiguous
      {0, 1, 3, 4},      {1, 2, 4, 5}, {0, 2, 3, 5},                                            // 4 split
      {0, 1, 2, 3, 4, 5}};                                                                      // all 6
  std::vector<std::uint8_t> entries(16 * 6, 0);
  for (std::size_t o = 0; o < reads.size(); ++o)
    for (int c : reads[o]) entries[o * 6 + static_cast<std::size_t>(c)] = 1;
  return ConnectionTable(16, 6, std::move(entries));
}

}  // namespace ag::models
