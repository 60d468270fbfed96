# The stack answers: PostgreSQL as the app role, Kafka's topics, the stand-in, the registry.
include(${CMAKE_CURRENT_LIST_DIR}/stack.cmake)
wf4_integration_test(stack_smoke stack_smoke.sh LABELS smoke TIMEOUT 120)
