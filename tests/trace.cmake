# Attempt history, wf4ctl trace and the traceparent header, against the real stack.
include(${WF4_TEST_DIR}/stack.cmake)

wf4_integration_test(integration_trace trace_test.sh TIMEOUT 600 LABELS trace)

add_executable(test_trace ${WF4_TEST_DIR}/unit/test_trace.c)
target_link_libraries(test_trace wf4common PkgConfig::CMOCKA)
add_test(NAME unit_trace COMMAND test_trace)
set_tests_properties(unit_trace PROPERTIES LABELS "unit;trace")
