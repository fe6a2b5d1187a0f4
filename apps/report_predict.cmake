# Included by apps/CMakeLists.txt: the training report (report.html), predict_lenet, and their libraries.

# Images: PNG (libpng) and PGM/PPM decoding, PNG encoding, with limits for untrusted files.
add_library(lenetgrad_image STATIC
  image/image.cpp
  image/image_file.cpp
  image/netpbm.cpp
  image/png_codec.cpp)
target_include_directories(lenetgrad_image PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(lenetgrad_image PUBLIC PNG::PNG fmt::fmt $<BUILD_INTERFACE:lenetgrad_options>)
