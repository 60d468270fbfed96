# Reliability (issue 8): chaos under faults, PgBouncer transaction pooling, least privilege,
# secrets nowhere, bad configuration rejected. All need the stack; chaos restarts its Kafka
# broker and PostgreSQL (and leaves them up), so every test here runs serially.
include(${WF4_TEST_DIR}/stack.cmake)

wf4_integration_test(chaos chaos_test.sh LABELS chaos TIMEOUT 900)
wf4_integration_test(pgbouncer pgbouncer_test.sh TIMEOUT 600)
wf4_integration_test(privileges privileges_test.sh TIMEOUT 120)
wf4_integration_test(secrets secrets_test.sh TIMEOUT 400)
wf4_integration_test(badconfig badconfig_test.sh TIMEOUT 600)
