# Database module, claimer and committer against the real stack.
include(${WF4_TEST_DIR}/stack.cmake)

add_executable(test_db_integration ${WF4_TEST_DIR}/integration/test_db.c)
target_link_libraries(test_db_integration PRIVATE wf4db wf4netproxy PkgConfig::CMOCKA)
add_test(NAME integration_db COMMAND bash -c ". \"$WF4_STACK_DIR/env\" && exec \"$0\""
  $<TARGET_FILE:test_db_integration>)
set_tests_properties(integration_db PROPERTIES FIXTURES_REQUIRED stack LABELS integration
  ENVIRONMENT "${WF4_STACK_ENV}" RUN_SERIAL TRUE TIMEOUT 120)

add_executable(wf4-resultgen ${WF4_TEST_DIR}/tools/resultgen.c)
target_link_libraries(wf4-resultgen PRIVATE wf4common)

wf4_integration_test(integration_claimer claimer_test.sh TIMEOUT 600)
wf4_integration_test(integration_committer committer_test.sh TIMEOUT 600)
wf4_integration_test(integration_e2e e2e_test.sh TIMEOUT 900)
