# lenetgrad_add_library(<layer> SOURCES ... DEPENDS ... [PRIVATE_DEPENDS ...])
# Declares one layer of the engine as a library target lenetgrad::<layer>, whose public headers are
# the *.h files of the folder <layer>/ (included as "<layer>/name.h"; those under an internal/ folder are the
# layer's own and are not installed), and installs both.
function(lenetgrad_add_library layer)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(lenetgrad_${layer} ${ARG_SOURCES})
  add_library(lenetgrad::${layer} ALIAS lenetgrad_${layer})
  set_target_properties(lenetgrad_${layer} PROPERTIES EXPORT_NAME ${layer} OUTPUT_NAME lenetgrad_${layer})
  target_include_directories(lenetgrad_${layer} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<INSTALL_INTERFACE:include>)
  target_link_libraries(lenetgrad_${layer} PUBLIC ${ARG_DEPENDS} $<BUILD_INTERFACE:lenetgrad_options>
    PRIVATE ${ARG_PRIVATE_DEPENDS})
  # The headers are C++20 (ag::Shape's comparisons, spans, concepts): a consumer's compile must be too.
  target_compile_features(lenetgrad_${layer} PUBLIC cxx_std_20)
  install(TARGETS lenetgrad_${layer} EXPORT lenetgradTargets ARCHIVE DESTINATION lib LIBRARY DESTINATION lib)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/ DESTINATION include/${layer} FILES_MATCHING PATTERN "*.h"
    PATTERN "internal" EXCLUDE)
endfunction()
