# The transaction rule: BEGIN/COMMIT/ROLLBACK only in common/db.c (and a fixture proving
# the check catches a violation).
add_test(NAME unit_tx_control_only_in_db
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-tx-control.sh ${CMAKE_SOURCE_DIR})
add_test(NAME unit_tx_control_check_catches_violation
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-tx-control.sh ${CMAKE_SOURCE_DIR}/tests/data/txcheck)
set_tests_properties(unit_tx_control_check_catches_violation PROPERTIES WILL_FAIL TRUE)
set_tests_properties(unit_tx_control_only_in_db unit_tx_control_check_catches_violation
  PROPERTIES LABELS unit)
