# Run by the CTest test "consumer" (see CMakeLists.txt here) with -DLENETGRAD_BUILD, CONSUMER_SOURCE, WORK,
# GENERATOR, CXX_COMPILER, BUILD_TYPE, CXX_FLAGS, LINKER_FLAGS, PREFIX_PATH ('|'-separated) and fmt_DIR:
# install, configure the consumer against the install, build it, run it.
cmake_minimum_required(VERSION 3.20)

set(prefix ${WORK}/prefix)
set(build ${WORK}/consumer-build)
file(REMOVE_RECURSE ${prefix} ${build})

# Runs a command; prints its output when it fails (or always, with ECHO) and stops the test on failure.
function(step what)
  cmake_parse_arguments(ARG "ECHO" "" "COMMAND" ${ARGN})
  execute_process(COMMAND ${ARG_COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(ARG_ECHO OR NOT status EQUAL 0)
    message("${output}")
  endif()
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "consumer: ${what} failed (${status})")
  endif()
  message("consumer: ${what}: ok")
endfunction()

string(REPLACE "|" ";" prefix_path "${PREFIX_PATH}")
set(configure_args -S ${CONSUMER_SOURCE} -B ${build} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
  "-DCMAKE_PREFIX_PATH=${prefix};${prefix_path}")
foreach(package fmt)
  if(${package}_DIR)
    list(APPEND configure_args -D${package}_DIR=${${package}_DIR})
  endif()
endforeach()

step("install into ${prefix}" COMMAND ${CMAKE_COMMAND} --install ${LENETGRAD_BUILD} --prefix ${prefix})
step("configure" COMMAND ${CMAKE_COMMAND} ${configure_args})
step("build" COMMAND ${CMAKE_COMMAND} --build ${build})
step("run" ECHO COMMAND ${build}/my_app)
