# Runs every case of the malformed-input table (tests/faults/malformed/cases.json) through the real apps:
# each must exit with its status and print its message on stderr within its time limit and under the memory
# limit, and no case may print a sanitizer report.
#
# cmake -DTABLE=cases.json -DTRAIN=train_lenet -DEVALUATE=evaluate_lenet -DSUMMARY=model_summary
#       -DPREDICT=predict_lenet -DFIXTURE=fault_fixture -DRUNNER=fault_run -DWORK=scratch-dir [-DMAX_RSS_MB=64]
#       [-DONLY=regex] -P run_malformed.cmake
#
# Every case runs under fault_run (tests/faults/fault_run.cpp): killed after its timeout (a hang
# fails the case, it does not hang the suite), its peak resident memory measured and compared with MAX_RSS_MB.
#
# A case is an object:
#   name      unique; its scratch folder is @CASE@ = WORK/cases/<name>
#   app       "train_lenet" (default), "evaluate_lenet", "predict_lenet" or "model_summary"
#   config    optional text written to @CONFIG@ = @CASE@/config.json (a malformed config, say)
#   copy      optional [from, to]: a folder copied before the run (a damaged checkpoint's run folder, say)
#   args      the command-line arguments
#   status    the exit status expected
#   stderr    a substring that stderr must contain (the specific message), or a list of substrings; "" when
#             stderr must be empty. A non-empty stderr must start with "<app>: ".
#   unchanged optional list of files that the run must leave byte for byte as they were
#   absent    optional list of paths that must not exist after the run
#   timeout   optional seconds before the run is killed and the case failed (default 20)
#   signal_pending  optional "TERM" or "INT": the signal is pending when the app starts (it arrives at once)
#   hold_lock optional folder whose output lock another process holds during the run
# Placeholders in config, copy, args, stderr and unchanged: @WORK@, @CASE@, @CONFIG@, @DATA@ (a good
# 40-sample dataset), @BAD@ (fault_fixture bad-data: one folder per data fault), @CKPT@ (fault_fixture
# bad-checkpoints: one run folder per checkpoint fault), @WORK@/configs (fault_fixture bad-configs: config
# files that are not text), @GOOD@ (a good 1-epoch config, lecun1998 and SGD),
# @GOOD_MODERN@ (the same with the modern variant), @RUN@ and @RUN_MODERN@ (their finished runs), @IMG@
# (fault_fixture bad-images: good.pgm, a digit, and malformed pictures), @RUNFILES@ (fault_fixture bad-run-files:
# copies of @RUN@ whose metrics or summary is not a regular file, and report_fifo/).
cmake_minimum_required(VERSION 3.20)
foreach(var TABLE TRAIN EVALUATE SUMMARY PREDICT FIXTURE RUNNER WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_malformed.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT DEFINED MAX_RSS_MB)
  set(MAX_RSS_MB 64)
endif()

foreach(var TRAIN EVALUATE SUMMARY PREDICT FIXTURE RUNNER WORK TABLE)
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
run_checked("writing a smaller dataset" "${FIXTURE}" dataset "${WORK}/data32" 32 3)
run_checked("writing the bad data" "${FIXTURE}" bad-data "${WORK}/bad")
run_checked("writing the bad configs" "${FIXTURE}" bad-configs "${WORK}/configs")
run_checked("writing the bad pictures" "${FIXTURE}" bad-images "${WORK}/images")
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
run_checked("writing the bad run files" "${FIXTURE}" bad-run-files "${WORK}/run" "${WORK}/runfiles")

# ----- the cases -------------------------------------------------------------------------------------------
file(READ "${TABLE}" table)
string(JSON count LENGTH "${table}" cases)
math(EXPR last "${count} - 1")
set(passed 0)
set(failed 0)
set(failures "")
set(peak_kb 0)
set(peak_case "")
set(sanitizer_regex "AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|Aborted|terminate called")

# Sets `out` to `text` with the placeholders expanded (case_dir is the current case's folder).
function(expand out text)
  foreach(pair "@CONFIG@=${case_dir}/config.json" "@CASE@=${case_dir}" "@GOOD_MODERN@=${WORK}/good_modern.json"
               "@GOOD@=${WORK}/good.json" "@RUN_MODERN@=${WORK}/run_modern" "@RUN@=${WORK}/run"
               "@DATA@=${WORK}/data" "@BAD@=${WORK}/bad" "@CKPT@=${WORK}/ckpt" "@IMG@=${WORK}/images"
               "@RUNFILES@=${WORK}/runfiles" "@WORK@=${WORK}")
    string(FIND "${pair}" "=" eq)
    string(SUBSTRING "${pair}" 0 ${eq} key)
    math(EXPR eq "${eq} + 1")
    string(SUBSTRING "${pair}" ${eq} -1 value)
    string(REPLACE "${key}" "${value}" text "${text}")
  endforeach()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Sets `out` to the case's field `field`, or to `fallback` when the case has none.
macro(optional_field out field fallback)
  string(JSON ${out} ERROR_VARIABLE _missing GET "${case_json}" ${field})
  if(_missing)
    set(${out} "${fallback}")
  endif()
endmacro()

# Sets `out` to the case's array `field` as a list, each string with its placeholders expanded (empty when the
# case has no such field).
function(case_strings out field)
  set(strings "")
  string(JSON n ERROR_VARIABLE missing LENGTH "${case_json}" ${field})
  if(NOT missing AND n GREATER 0)
    math(EXPR last_index "${n} - 1")
    foreach(k RANGE ${last_index})
      string(JSON item GET "${case_json}" ${field} ${k})
      expand(item "${item}")
      list(APPEND strings "${item}")
    endforeach()
  endif()
  set(${out} "${strings}" PARENT_SCOPE)
endfunction()

foreach(i RANGE ${last})
  # Each case's object is taken out once: string(JSON) parses its whole input at every call.
  string(JSON case_json GET "${table}" cases ${i})
  string(JSON name GET "${case_json}" name)
  if(DEFINED ONLY AND NOT name MATCHES "${ONLY}")
    continue()
  endif()
  set(case_dir "${WORK}/cases/${name}")
  file(MAKE_DIRECTORY "${case_dir}")

  string(JSON app ERROR_VARIABLE no_app GET "${case_json}" app)
  set(program "${TRAIN}")
  if(NOT no_app AND app STREQUAL "evaluate_lenet")
    set(program "${EVALUATE}")
  elseif(NOT no_app AND app STREQUAL "model_summary")
    set(program "${SUMMARY}")
  elseif(NOT no_app AND app STREQUAL "predict_lenet")
    set(program "${PREDICT}")
  else()
    set(app "train_lenet")
  endif()

  string(JSON config ERROR_VARIABLE no_config GET "${case_json}" config)
  if(NOT no_config)
    expand(config "${config}")
    file(WRITE "${case_dir}/config.json" "${config}")
  endif()

  string(JSON copy ERROR_VARIABLE no_copy GET "${case_json}" copy)
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

  case_strings(args args)
  case_strings(unchanged_files unchanged)
  set(hashes "")
  foreach(path IN LISTS unchanged_files)
    file(SHA256 "${path}" hash)
    list(APPEND hashes "${hash}")
  endforeach()

  # The run's limits and signals, passed to fault_run.
  optional_field(timeout timeout 20)
  set(run_options "")
  foreach(pair "signal_pending;--signal-pending" "hold_lock;--hold-lock")
    list(GET pair 0 field)
    list(GET pair 1 option)
    optional_field(value ${field} "")
    if(NOT value STREQUAL "")
      expand(value "${value}")
      list(APPEND run_options ${option} "${value}")
    endif()
  endforeach()

  string(JSON want_status GET "${case_json}" status)
  set(report "${case_dir}/run_report")
  file(REMOVE "${report}")
  math(EXPR backstop "${timeout} + 60")
  execute_process(COMMAND "${RUNNER}" "${report}" ${timeout} ${MAX_RSS_MB} ${run_options} -- "${program}" ${args}
    WORKING_DIRECTORY "${case_dir}"
    RESULT_VARIABLE run_status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT ${backstop})

  set(problems "")
  set(status "none")
  if(EXISTS "${report}")
    file(STRINGS "${report}" report_lines)
    foreach(line IN LISTS report_lines)
      string(REPLACE " " ";" line "${line}")
      list(GET line 0 key)
      list(GET line 1 value)
      set(report_${key} ${value})
    endforeach()
    set(status ${report_status})
    if(report_timed_out)
      string(APPEND problems "\n    killed after ${timeout} s: a hang")
    endif()
    math(EXPR limit_kb "${MAX_RSS_MB} * 1024")
    if(report_max_rss_kb GREATER limit_kb)
      string(APPEND problems "\n    peak memory ${report_max_rss_kb} kB, over the ${MAX_RSS_MB} MB limit")
    endif()
    if(report_max_rss_kb GREATER peak_kb)
      set(peak_kb ${report_max_rss_kb})
      set(peak_case ${name})
    endif()
  else()
    string(APPEND problems "\n    fault_run wrote no report (${run_status}): ${err}")
  endif()
  if(NOT "${status}" STREQUAL "${want_status}")
    string(APPEND problems "\n    exit status ${status}, expected ${want_status}")
  endif()
  # stderr: one substring, or a list of substrings that must all appear (checked one by one: they may hold ';').
  string(JSON stderr_type TYPE "${case_json}" stderr)
  set(n_parts 1)
  if(stderr_type STREQUAL "ARRAY")
    string(JSON n_parts LENGTH "${case_json}" stderr)
  endif()
  math(EXPR last_part "${n_parts} - 1")
  foreach(k RANGE ${last_part})
    if(stderr_type STREQUAL "ARRAY")
      string(JSON part GET "${case_json}" stderr ${k})
    else()
      string(JSON part GET "${case_json}" stderr)
    endif()
    expand(part "${part}")
    string(FIND "${err}" "${part}" at)
    if(at EQUAL -1)
      string(APPEND problems "\n    stderr lacks: ${part}")
    endif()
  endforeach()
  string(JSON want_err GET "${case_json}" stderr)
  if(stderr_type STREQUAL "STRING" AND want_err STREQUAL "" AND NOT err STREQUAL "")
    string(APPEND problems "\n    stderr is not empty")
  elseif(NOT err STREQUAL "" AND NOT err MATCHES "^${app}: ")
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

  case_strings(absent_files absent)
  foreach(path IN LISTS absent_files)
    if(EXISTS "${path}" OR IS_SYMLINK "${path}")
      string(APPEND problems "\n    ${path} exists")
    endif()
  endforeach()

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
message(STATUS "run_malformed: ${total} malformed inputs tried; the most memory one used: ${peak_kb} kB (${peak_case})")
if(failed GREATER 0)
  message(STATUS "${failures}")
  message(STATUS "${passed} passed, ${failed} failed")
  message(FATAL_ERROR "run_malformed: ${failed} of ${total} cases failed")
endif()
message(STATUS "${passed} passed, 0 failed")
