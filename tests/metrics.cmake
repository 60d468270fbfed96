# Unit tests of common/metrics.c and common/http.c.
add_executable(test_metrics ${WF4_TEST_DIR}/unit/test_metrics.c)
target_link_libraries(test_metrics wf4common PkgConfig::CMOCKA)
add_test(NAME unit_metrics COMMAND test_metrics)
set_tests_properties(unit_metrics PROPERTIES LABELS unit)
