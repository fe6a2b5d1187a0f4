# Fails the configuration when a file includes a header its room may not (docs/extending.md, "Architecture"):
#
#   kernels/                 kernels/ only (and the standard library)
#   autograd/ (core)         autograd/ public headers and autograd/ops/*.h; never kernels/ or ops/internal/;
#                            the three door files below reach the kernels for the public API
#   autograd/ops/*.h         autograd/ public headers only (they are installed)
#   autograd/ops/*.cpp,      autograd/, autograd/ops/internal/, and the kernels' door headers (kernels/*.h,
#   autograd/ops/internal/   not kernels/<family>/*)
#   nn/                      autograd/ public headers (autograd/*.h, autograd/ops/*.h) and nn/
#   models/                  those and models/
#   apps/, bench/, fuzz/     those and apps/
# so nothing above autograd/ops reaches kernels/ or autograd/ops/internal/.
#
# tests/ may include anything: the kernel tests call the kernels directly.

set(_layer_doors autograd/parallel.cpp autograd/float_env.cpp autograd/bytes.cpp)

# _check_includes(<room description> <files> <allowed regex> <forbidden regex>): every "#include "...""
# must match <allowed> and not <forbidden>.
function(_check_includes room files allowed forbidden)
  foreach(file IN LISTS files)
    file(RELATIVE_PATH relative ${PROJECT_SOURCE_DIR} ${file})
    file(STRINGS ${file} includes REGEX "^#include \"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" header "${line}")
      if(NOT header MATCHES "${allowed}" OR (NOT "${forbidden}" STREQUAL "" AND header MATCHES "${forbidden}"))
        message(FATAL_ERROR "layering: ${relative} (${room}) includes \"${header}\", which that room may not "
                            "include; see cmake/CheckLayers.cmake and docs/extending.md, \"Architecture\".")
      endif()
    endforeach()
  endforeach()
endfunction()

function(lenetgrad_check_layers)
  set(root ${PROJECT_SOURCE_DIR})
  set(public "^(autograd/[a-z_]+\\.h|autograd/ops/[a-z_0-9]+\\.h)$")

  file(GLOB_RECURSE kernels ${root}/kernels/*.h ${root}/kernels/*.cpp)
  _check_includes("kernels" "${kernels}" "^kernels/" "")

  file(GLOB core ${root}/autograd/*.h ${root}/autograd/*.cpp)
  foreach(door IN LISTS _layer_doors)
    list(REMOVE_ITEM core ${root}/${door})
  endforeach()
  _check_includes("core" "${core}" "${public}" "")

  file(GLOB op_headers ${root}/autograd/ops/*.h)
  _check_includes("public op header" "${op_headers}" "${public}" "")

  file(GLOB op_sources ${root}/autograd/ops/*.cpp ${root}/autograd/ops/internal/*)
  set(doors "")
  foreach(door IN LISTS _layer_doors)
    list(APPEND doors ${root}/${door})
  endforeach()
  _check_includes("op" "${op_sources};${doors}" "^(autograd/|kernels/[a-z_0-9]+\\.h$)" "")

  set(public_parts "autograd/[a-z_]+\\.h|autograd/ops/[a-z_0-9]+\\.h")
  set(above_nn "^(${public_parts}|nn/)")
  set(above_models "^(${public_parts}|nn/|models/)")
  set(above_apps "^(${public_parts}|nn/|models/|apps/)")
  foreach(room nn models apps bench fuzz)
    file(GLOB_RECURSE files ${root}/${room}/*.h ${root}/${room}/*.cpp)
    if(room STREQUAL "nn")
      set(allowed "${above_nn}")
    elseif(room STREQUAL "models")
      set(allowed "${above_models}")
    else()
      set(allowed "${above_apps}")
    endif()
    _check_includes("${room}" "${files}" "${allowed}" "")
  endforeach()
endfunction()

# Run as a script (the test `layering`: cmake -DPROJECT_SOURCE_DIR=<root> -P cmake/CheckLayers.cmake), so that
# an include added after the last configuration is caught too.
if(CMAKE_SCRIPT_MODE_FILE)
  lenetgrad_check_layers()
  message(STATUS "layering: every room includes only what it may")
endif()
