# The C and C++ sources follow .clang-format (STYLE.md: one formatter config), checked, not hoped.
add_test(NAME format_check COMMAND bash ${WF4_TEST_DIR}/format_test.sh)
set_tests_properties(format_check PROPERTIES
  LABELS "unit"
  ENVIRONMENT "WF4_SRC=${CMAKE_SOURCE_DIR}"
  TIMEOUT 120)
