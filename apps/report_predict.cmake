# Included by apps/CMakeLists.txt: the training report (report.html), predict_lenet, and their libraries.

# Images: PNG (libpng) and PGM/PPM decoding, PNG encoding, with limits for untrusted files (opened as every input
# of the apps is, by nn/data/input_file.cpp: regular files only, of a bounded size).
add_library(lenetgrad_image STATIC
  image/image.cpp
  image/image_file.cpp
  image/netpbm.cpp
  image/png_codec.cpp)
target_include_directories(lenetgrad_image PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(lenetgrad_image PUBLIC PNG::PNG fmt::fmt $<BUILD_INTERFACE:lenetgrad_options>
  PRIVATE lenetgrad::nn)

# A trained run loaded back from its folder, its outputs as class scores, and per-layer activations.
add_library(lenetgrad_inspect STATIC
  inspect/activations.cpp
  inspect/scores.cpp
  inspect/trained_run.cpp)
target_link_libraries(lenetgrad_inspect PUBLIC lenetgrad_train)

# The report page.
add_library(lenetgrad_report STATIC
  report/charts.cpp
  report/html.cpp
  report/pictures.cpp
  report/report.cpp
  report/report_data.cpp
  report/run_files.cpp
  report/run_report.cpp
  report/sections_network.cpp
  report/sections_run.cpp
  report/sections_test.cpp)
target_link_libraries(lenetgrad_report PUBLIC lenetgrad_inspect lenetgrad_image)

# Reading pictures of digits and classifying them.
add_library(lenetgrad_predict STATIC
  predict/prepare.cpp
  predict/predict.cpp)
target_link_libraries(lenetgrad_predict PUBLIC lenetgrad_inspect lenetgrad_image)

add_executable(predict_lenet predict_lenet.cpp)
target_link_libraries(predict_lenet PRIVATE lenetgrad_predict)

# train_lenet writes report.html after each checkpoint and at the end; evaluate_lenet --report FILE.
target_link_libraries(train_lenet PRIVATE lenetgrad_report)
target_link_libraries(evaluate_lenet PRIVATE lenetgrad_report)
