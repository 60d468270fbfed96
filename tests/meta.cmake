# Tests of common/meta_fields.h: the metadata field table against result.avsc, schemas/sql and
# the committer's statement (unit, cmocka; links committer_core for result.c, no server).
add_executable(test_meta_fields ${WF4_TEST_DIR}/unit/test_meta_fields.c)
target_link_libraries(test_meta_fields committer_core PkgConfig::CMOCKA PkgConfig::JANSSON)
add_test(NAME unit_meta_fields COMMAND test_meta_fields)
set_tests_properties(unit_meta_fields PROPERTIES LABELS unit)
