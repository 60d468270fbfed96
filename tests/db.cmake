# The transaction rule: BEGIN/COMMIT/ROLLBACK only in common/db.c (and a fixture proving
# the check catches a violation).
add_test(NAME unit_tx_control_only_in_db
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-tx-control.sh ${CMAKE_SOURCE_DIR})
add_test(NAME unit_tx_control_check_catches_violation
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-tx-control.sh ${CMAKE_SOURCE_DIR}/tests/data/txcheck)
set_tests_properties(unit_tx_control_check_catches_violation PROPERTIES WILL_FAIL TRUE)
set_tests_properties(unit_tx_control_only_in_db unit_tx_control_check_catches_violation
  PROPERTIES LABELS unit)

# Batch sizing for short transactions (db_batch_fit).
add_executable(test_db_batch_fit ${WF4_TEST_DIR}/unit/test_db_batch_fit.c)
target_link_libraries(test_db_batch_fit wf4db PkgConfig::CMOCKA)
add_test(NAME unit_db_batch_fit COMMAND test_db_batch_fit)
set_tests_properties(unit_db_batch_fit PROPERTIES LABELS unit)
