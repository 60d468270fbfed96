# A clone in a directory others cannot enter (issue 24): its own stack comes up and goes down.
add_test(NAME clone_stack COMMAND bash ${WF4_TEST_DIR}/clone_test.sh)
set_tests_properties(clone_stack PROPERTIES
  LABELS "clone;integration"
  ENVIRONMENT "WF4_BIN=${CMAKE_BINARY_DIR}/bin;WF4_SRC=${CMAKE_SOURCE_DIR};TEST_NAME=clone_stack"
  RUN_SERIAL TRUE
  TIMEOUT 300)
