# The Prometheus alerting rules (deploy/prometheus): promtool checks and unit tests, no stack;
# and wf4ctl exporter, which exports the signals the services do not, against the stack.
include(${WF4_TEST_DIR}/stack.cmake)

add_test(NAME alerts_rules COMMAND bash ${WF4_TEST_DIR}/alerts_test.sh)
set_tests_properties(alerts_rules PROPERTIES
  LABELS "unit;alerts"
  ENVIRONMENT "WF4_SRC=${CMAKE_SOURCE_DIR}"
  TIMEOUT 60)

wf4_integration_test(ctl_exporter ctl_exporter.sh LABELS ctl alerts TIMEOUT 120)
