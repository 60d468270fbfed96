# Tests of common/wire*.c, msg.c, meta.c: unit (cmocka), fuzz (libFuzzer), registry (Apicurio).
add_executable(test_wire ${WF4_TEST_DIR}/unit/test_wire.c)
target_link_libraries(test_wire wf4common PkgConfig::CMOCKA)
target_compile_definitions(test_wire PRIVATE WF4_TEST_DATA="${WF4_TEST_DIR}/data")
add_test(NAME unit_wire COMMAND test_wire)
set_tests_properties(unit_wire PROPERTIES LABELS unit)

# Registry round trip against the real Apicurio started by the stack harness
# (the script runs $WF4_BIN/wf4-wire-registry-check with WF4_SCHEMA_REGISTRY_URL).
add_executable(wf4-wire-registry-check ${WF4_TEST_DIR}/unit/test_wire_registry.c)
target_link_libraries(wf4-wire-registry-check wf4common)
include(${WF4_TEST_DIR}/stack.cmake)
wf4_integration_test(wire_registry wire_registry.sh LABELS registry TIMEOUT 120 PARALLEL)

# libFuzzer over the three decoders and wire_decode_json. The sources are compiled into the
# fuzzer itself so that they carry its coverage instrumentation.
if(WF4_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(WF4_FUZZ_SOURCES
    ${CMAKE_SOURCE_DIR}/common/wire.c ${CMAKE_SOURCE_DIR}/common/wire_canon.c
    ${CMAKE_SOURCE_DIR}/common/wire_guard.c ${CMAKE_SOURCE_DIR}/common/wire_json.c
    ${CMAKE_SOURCE_DIR}/common/wire_registry.c ${CMAKE_SOURCE_DIR}/common/wire_resolve.c
    ${CMAKE_SOURCE_DIR}/common/msg.c ${CMAKE_SOURCE_DIR}/common/meta.c)
  add_executable(fuzz_wire ${WF4_TEST_DIR}/fuzz/fuzz_wire.c ${WF4_FUZZ_SOURCES})
  target_include_directories(fuzz_wire PRIVATE ${CMAKE_SOURCE_DIR}/common)
  target_compile_options(fuzz_wire PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_wire PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_wire PkgConfig::AVRO PkgConfig::JANSSON PkgConfig::CURL)
  target_compile_definitions(fuzz_wire PRIVATE WF4_FUZZ_SCHEMA_DIR="${CMAKE_SOURCE_DIR}/schemas")
  set(WF4_FUZZ_WORK ${CMAKE_BINARY_DIR}/fuzz_wire_corpus)
  add_test(NAME fuzz_wire
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
      $<TARGET_FILE:fuzz_wire> -max_total_time=60 -max_len=4096 -timeout=10
      -print_final_stats=1 ${WF4_FUZZ_WORK} ${WF4_TEST_DIR}/fuzz/corpus)
  set_tests_properties(fuzz_wire PROPERTIES LABELS fuzz TIMEOUT 180)
  file(MAKE_DIRECTORY ${WF4_FUZZ_WORK})
endif()
