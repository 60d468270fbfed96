# The committer's batch state machine driven by a fake apply, producer and consumer.
add_executable(test_committer_batch ${WF4_TEST_DIR}/unit/test_committer_batch.c)
target_link_libraries(test_committer_batch committer_core PkgConfig::CMOCKA)
add_test(NAME unit_committer_batch COMMAND test_committer_batch)
set_tests_properties(unit_committer_batch PROPERTIES LABELS unit TIMEOUT 120)
