# The local stack as a CTest fixture ("stack"), and wf4_integration_test() for integration tests.
#
# tests/CMakeLists.txt includes tests/*.cmake in name order: an area file that sorts before
# this one and calls wf4_integration_test() starts with
#   include(${WF4_TEST_DIR}/stack.cmake)
# (the include guard makes the second include a no-op).
include_guard(GLOBAL)

set(WF4_STACK_DIR ${CMAKE_BINARY_DIR}/stack)
set(WF4_STACK_ENV
  "WF4_STACK_DIR=${WF4_STACK_DIR}"
  "WF4_BIN=${CMAKE_BINARY_DIR}/bin"
  "WF4_SRC=${CMAKE_SOURCE_DIR}")

# One stack per ctest run: started before the first test that requires it, stopped after
# the last one (CTest runs the cleanup even when tests fail).
add_test(NAME stack_up COMMAND ${CMAKE_SOURCE_DIR}/scripts/stack.sh up --registry)
set_tests_properties(stack_up PROPERTIES
  FIXTURES_SETUP stack
  LABELS integration
  ENVIRONMENT "${WF4_STACK_ENV}"
  TIMEOUT 300)
add_test(NAME stack_down COMMAND ${CMAKE_SOURCE_DIR}/scripts/stack.sh down)
set_tests_properties(stack_down PROPERTIES
  FIXTURES_CLEANUP stack
  LABELS integration
  ENVIRONMENT "${WF4_STACK_ENV}"
  TIMEOUT 120)

# wf4_integration_test(NAME script [LABELS l...] [TIMEOUT s] [ENVIRONMENT V=x...] [PARALLEL])
#   Registers `bash script` (relative to the calling file's directory) as a test that needs
#   the stack. Its environment: WF4_STACK_DIR, WF4_BIN, WF4_SRC, TEST_NAME (+ ENVIRONMENT).
#   The tests share one database and one broker, so they run one at a time (RUN_SERIAL)
#   unless PARALLEL says the test touches nothing another test reads (no db_reset, own topics).
#   Labels: integration plus LABELS. TIMEOUT defaults to 300 s.
function(wf4_integration_test NAME SCRIPT)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "PARALLEL" "TIMEOUT" "LABELS;ENVIRONMENT")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "wf4_integration_test(${NAME}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT IS_ABSOLUTE ${SCRIPT})
    set(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/${SCRIPT})
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(serial TRUE)
  if(ARG_PARALLEL)
    set(serial FALSE)
  endif()
  add_test(NAME ${NAME} COMMAND bash ${SCRIPT})
  set_tests_properties(${NAME} PROPERTIES
    FIXTURES_REQUIRED stack
    LABELS "integration;${ARG_LABELS}"
    ENVIRONMENT "${WF4_STACK_ENV};TEST_NAME=${NAME};${ARG_ENVIRONMENT}"
    RUN_SERIAL ${serial}
    TIMEOUT ${ARG_TIMEOUT})
endfunction()
