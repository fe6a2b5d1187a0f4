#pragma once
// The consumer saves and loads a LeNet-5 through the installed nn and models libraries (README, "Saving and
// loading a model").

namespace consumer {

/// Saves a lecun1998 model, loads it into another, and compares their outputs; prints what it finds and returns
/// the number of failed checks.
int saved_state_failures();

}  // namespace consumer
