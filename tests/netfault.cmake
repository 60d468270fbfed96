# Network faults (issue 20): wf4-netproxy between the services and PostgreSQL and Kafka.
include(${WF4_TEST_DIR}/stack.cmake)

wf4_integration_test(netfault netfault_test.sh LABELS netfault TIMEOUT 900)
