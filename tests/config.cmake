# Unit tests of common/config.c (secrets from <VAR>_FILE, masked in every dump).
add_executable(test_config ${WF4_TEST_DIR}/unit/test_config.c)
target_link_libraries(test_config wf4common PkgConfig::CMOCKA)
add_test(NAME unit_config COMMAND test_config)
set_tests_properties(unit_config PROPERTIES LABELS unit)
