# Runs every case of the malformed-input table (tests/faults/malformed/cases.json) through the real apps:
# each must exit with its status and print its message on stderr, and no case may print a sanitizer report.
#
# cmake -DTABLE=cases.json -DTRAIN=train_lenet -DEVALUATE=evaluate_lenet -DFIXTURE=fault_fixture
#       -DWORK=scratch-dir [-DONLY=regex] -P run_malformed.cmake
#
# A case is an object:
#   name      unique; its scratch folder is @CASE@ = WORK/cases/<name>
#   app       "train_lenet" (default) or "evaluate_lenet"
#   config    optional text written to @CONFIG@ = @CASE@/config.json (a malformed config, say)
#   copy      optional [from, to]: a folder copied before the run (a damaged checkpoint's run folder, say)
#   args      the command-line arguments
#   status    the exit status expected
#   stderr    a substring that stderr must contain (the specific message), or a list of substrings
#   unchanged optional list of files that the run must leave byte for byte as they were
# Placeholders in config, copy, args, stderr and unchanged: @WORK@, @CASE@, @CONFIG@, @DATA@ (a good
# 40-sample dataset), @BAD@ (fault_fixture bad-data: one folder per data fault), @CKPT@ (fault_fixture
# bad-checkpoints: one run folder per checkpoint fault), @WORK@/configs (fault_fixture bad-configs: config
# files that are not text), @GOOD@ (a good 1-epoch config, lecun1998 and SGD),
# @GOOD_MODERN@ (the same with the modern variant), @RUN@ and @RUN_MODERN@ (their finished runs).
cmake_minimum_required(VERSION 3.20)
foreach(var TABLE TRAIN EVALUATE FIXTURE WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_malformed.cmake: -D${var}=... is required")
  endif()
endforeach()

foreach(var TRAIN EVALUATE FIXTURE WORK TABLE)
  get_filename_component(${var} "${${var}}" ABSOLUTE)  # the cases run in their own folders
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/cases")

function(run_checked what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "run_malformed: ${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

# ----- fixtures --------------------------------------------------------------------------------------------
run_checked("writing the dataset" "${FIXTURE}" dataset "${WORK}/data" 40 3)
run_checked("writing the bad data" "${FIXTURE}" bad-data "${WORK}/bad")
run_checked("writing the bad configs" "${FIXTURE}" bad-configs "${WORK}/configs")
foreach(variant lecun1998 modern)
  set(suffix "")
  if(variant STREQUAL "modern")
    set(suffix "_modern")
  endif()
  file(WRITE "${WORK}/good${suffix}.json" "{
  \"model\": {\"variant\": \"${variant}\"},
  \"data\": {\"dir\": \"${WORK}/data\"},
  \"train\": {\"epochs\": 1, \"batch_size\": 8, \"seed\": 5, \"optimizer\": {\"name\": \"sgd\", \"lr\": 0.01}},
  \"output\": {\"dir\": \"${WORK}/run${suffix}\", \"progress\": \"lines\"}
}
")
  run_checked("the good ${variant} run" "${TRAIN}" --config "${WORK}/good${suffix}.json")
endforeach()
run_checked("writing the bad checkpoints" "${FIXTURE}" bad-checkpoints "${WORK}/run" "${WORK}/ckpt")

# ----- the cases -------------------------------------------------------------------------------------------
file(READ "${TABLE}" table)
string(JSON count LENGTH "${table}" cases)
math(EXPR last "${count} - 1")
set(passed 0)
set(failed 0)
set(failures "")
set(sanitizer_regex "AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|Aborted|terminate called")

# Sets `out` to `text` with the placeholders expanded (case_dir is the current case's folder).
function(expand out text)
  foreach(pair "@CONFIG@=${case_dir}/config.json" "@CASE@=${case_dir}" "@GOOD_MODERN@=${WORK}/good_modern.json"
               "@GOOD@=${WORK}/good.json" "@RUN_MODERN@=${WORK}/run_modern" "@RUN@=${WORK}/run"
               "@DATA@=${WORK}/data" "@BAD@=${WORK}/bad" "@CKPT@=${WORK}/ckpt" "@WORK@=${WORK}")
    string(FIND "${pair}" "=" eq)
    string(SUBSTRING "${pair}" 0 ${eq} key)
    math(EXPR eq "${eq} + 1")
    string(SUBSTRING "${pair}" ${eq} -1 value)
    string(REPLACE "${key}" "${value}" text "${text}")
  endforeach()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

foreach(i RANGE ${last})
  string(JSON name GET "${table}" cases ${i} name)
  if(DEFINED ONLY AND NOT name MATCHES "${ONLY}")
    continue()
  endif()
  set(case_dir "${WORK}/cases/${name}")
  file(MAKE_DIRECTORY "${case_dir}")

  string(JSON app ERROR_VARIABLE no_app GET "${table}" cases ${i} app)
  set(program "${TRAIN}")
  if(NOT no_app AND app STREQUAL "evaluate_lenet")
    set(program "${EVALUATE}")
  elseif(NOT no_app)
    set(app "train_lenet")
  else()
    set(app "train_lenet")
  endif()

  string(JSON config ERROR_VARIABLE no_config GET "${table}" cases ${i} config)
  if(NOT no_config)
    expand(config "${config}")
    file(WRITE "${case_dir}/config.json" "${config}")
  endif()

  string(JSON copy ERROR_VARIABLE no_copy GET "${table}" cases ${i} copy)
  if(NOT no_copy)
    string(JSON from GET "${copy}" 0)
    string(JSON to GET "${copy}" 1)
    expand(from "${from}")
    expand(to "${to}")
    file(REMOVE_RECURSE "${to}")
    file(MAKE_DIRECTORY "${to}")
    file(GLOB entries "${from}/*")
    file(COPY ${entries} DESTINATION "${to}")
  endif()

  set(args "")
  string(JSON n_args LENGTH "${table}" cases ${i} args)
  if(n_args GREATER 0)
    math(EXPR last_arg "${n_args} - 1")
    foreach(a RANGE ${last_arg})
      string(JSON arg GET "${table}" cases ${i} args ${a})
      expand(arg "${arg}")
      list(APPEND args "${arg}")
    endforeach()
  endif()

  set(hashes "")
  set(unchanged_files "")
  string(JSON n_unchanged ERROR_VARIABLE no_unchanged LENGTH "${table}" cases ${i} unchanged)
  if(NOT no_unchanged AND n_unchanged GREATER 0)
    math(EXPR last_unchanged "${n_unchanged} - 1")
    foreach(u RANGE ${last_unchanged})
      string(JSON path GET "${table}" cases ${i} unchanged ${u})
      expand(path "${path}")
      file(SHA256 "${path}" hash)
      list(APPEND unchanged_files "${path}")
      list(APPEND hashes "${hash}")
    endforeach()
  endif()

  string(JSON want_status GET "${table}" cases ${i} status)
  execute_process(COMMAND "${program}" ${args}
    WORKING_DIRECTORY "${case_dir}"
    RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)

  set(problems "")
  if(NOT "${status}" STREQUAL "${want_status}")
    string(APPEND problems "\n    exit status ${status}, expected ${want_status}")
  endif()
  # stderr: one substring, or a list of substrings that must all appear (checked one by one: they may hold ';').
  string(JSON stderr_type TYPE "${table}" cases ${i} stderr)
  set(n_parts 1)
  if(stderr_type STREQUAL "ARRAY")
    string(JSON n_parts LENGTH "${table}" cases ${i} stderr)
  endif()
  math(EXPR last_part "${n_parts} - 1")
  foreach(k RANGE ${last_part})
    if(stderr_type STREQUAL "ARRAY")
      string(JSON part GET "${table}" cases ${i} stderr ${k})
    else()
      string(JSON part GET "${table}" cases ${i} stderr)
    endif()
    expand(part "${part}")
    string(FIND "${err}" "${part}" at)
    if(at EQUAL -1)
      string(APPEND problems "\n    stderr lacks: ${part}")
    endif()
  endforeach()
  if(NOT err MATCHES "^${app}: ")
    string(APPEND problems "\n    stderr does not start with \"${app}: \"")
  endif()
  if(err MATCHES "${sanitizer_regex}" OR out MATCHES "${sanitizer_regex}")
    string(APPEND problems "\n    a sanitizer report or crash")
  endif()
  list(LENGTH unchanged_files n)
  if(n GREATER 0)
    math(EXPR last_file "${n} - 1")
    foreach(f RANGE ${last_file})
      list(GET unchanged_files ${f} path)
      list(GET hashes ${f} before)
      if(NOT EXISTS "${path}")
        string(APPEND problems "\n    ${path} is gone")
      else()
        file(SHA256 "${path}" after)
        if(NOT after STREQUAL before)
          string(APPEND problems "\n    ${path} changed")
        endif()
      endif()
    endforeach()
  endif()

  if(problems STREQUAL "")
    math(EXPR passed "${passed} + 1")
    string(STRIP "${err}" shown)
    message(STATUS "ok   ${name}: ${status}: ${shown}")
  else()
    math(EXPR failed "${failed} + 1")
    string(APPEND failures "\nFAIL ${name}: ${app} ${args}${problems}\n    stderr: ${err}")
  endif()
endforeach()

math(EXPR total "${passed} + ${failed}")
message(STATUS "run_malformed: ${total} malformed inputs tried")
if(failed GREATER 0)
  message(STATUS "${failures}")
  message(STATUS "${passed} passed, ${failed} failed")
  message(FATAL_ERROR "run_malformed: ${failed} of ${total} cases failed")
endif()
message(STATUS "${passed} passed, 0 failed")
