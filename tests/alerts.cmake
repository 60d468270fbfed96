# wf4ctl exporter, which exports the signals the services do not, against the stack.
include(${WF4_TEST_DIR}/stack.cmake)

wf4_integration_test(ctl_exporter ctl_exporter.sh LABELS ctl alerts TIMEOUT 120)
