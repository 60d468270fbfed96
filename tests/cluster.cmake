# Kafka as a cluster and secured (labels "cluster" and "acl"). Neither needs the shared stack
# fixture: each test starts its own stack (the shared one is a single plain node) in its own
# state dir, and a cleanup fixture stops it even when the test timed out.
function(wf4_own_stack_test NAME SCRIPT LABEL TIMEOUT)
  set(env "WF4_STACK_KAFKA_WAIT_S=240" "WF4_STACK_DIR=${CMAKE_BINARY_DIR}/stack-${LABEL}"
    "WF4_BIN=${CMAKE_BINARY_DIR}/bin" "WF4_SRC=${CMAKE_SOURCE_DIR}" "TEST_NAME=${NAME}")
  add_test(NAME ${NAME} COMMAND bash ${WF4_TEST_DIR}/${SCRIPT})
  set_tests_properties(${NAME} PROPERTIES LABELS ${LABEL} TIMEOUT ${TIMEOUT} RUN_SERIAL TRUE
    FIXTURES_REQUIRED stack_${LABEL} ENVIRONMENT "${env}")
  add_test(NAME ${NAME}_down COMMAND ${CMAKE_SOURCE_DIR}/scripts/stack.sh down)
  set_tests_properties(${NAME}_down PROPERTIES LABELS ${LABEL} TIMEOUT 120
    FIXTURES_CLEANUP stack_${LABEL} ENVIRONMENT "${env}")
endfunction()

# 3,000 domains on three brokers through a SIGKILL of the busiest leader and an outage of two
# brokers. About 5 minutes on a quiet machine; broker restarts (log recovery after a kill)
# take 1-2 minutes each when the machine is loaded, hence the limit.
wf4_own_stack_test(cluster_broker_loss cluster_test.sh cluster 1200)

# The pipeline on a secured stack: Kafka SASL_SSL + SCRAM + ACLs, PostgreSQL TLS.
wf4_own_stack_test(acl_secured_stack acl_test.sh acl 900)
