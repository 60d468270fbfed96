# Attempt history, wf4ctl trace and the traceparent header, against the real stack.
include(${WF4_TEST_DIR}/stack.cmake)

wf4_integration_test(integration_trace trace_test.sh TIMEOUT 600 LABELS trace)
