# Tests of the scraper's page extraction (scraper/extract*.c) and domain check.
add_executable(test_extract ${WF4_TEST_DIR}/unit/test_extract.c)
target_link_libraries(test_extract scraper_core PkgConfig::CMOCKA)
target_compile_definitions(test_extract PRIVATE
  WF4_PAGES_DIR="${WF4_TEST_DIR}/data/pages")
add_test(NAME unit_extract COMMAND test_extract)
set_tests_properties(unit_extract PROPERTIES LABELS unit)

# Phone numbers (libphonenumber behind scraper/phone.h) and the social profiles chosen.
foreach(t extract_phone extract_social)
  add_executable(test_${t} ${WF4_TEST_DIR}/unit/test_${t}.c)
  target_link_libraries(test_${t} scraper_core PkgConfig::CMOCKA)
  target_compile_definitions(test_${t} PRIVATE WF4_PAGES_DIR="${WF4_TEST_DIR}/data/pages")
  add_test(NAME unit_${t} COMMAND test_${t})
  set_tests_properties(unit_${t} PROPERTIES LABELS unit)
endforeach()

add_executable(test_domain_check ${WF4_TEST_DIR}/unit/test_domain_check.c)
target_link_libraries(test_domain_check scraper_core PkgConfig::CMOCKA)
add_test(NAME unit_domain_check COMMAND test_domain_check)
set_tests_properties(unit_domain_check PROPERTIES LABELS unit)

# libFuzzer target: the extractor and meta.c compiled straight in, so the whole
# path is instrumented for coverage; new inputs go to a work dir in the build tree,
# the checked-in seeds stay untouched.
if(WF4_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  file(GLOB fuzz_extract_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/scraper/extract*.c)
  add_executable(fuzz_extract ${WF4_TEST_DIR}/fuzz/fuzz_extract.c ${fuzz_extract_SOURCES}
    ${CMAKE_SOURCE_DIR}/scraper/phone.cc ${CMAKE_SOURCE_DIR}/common/meta.c)
  target_include_directories(fuzz_extract PRIVATE ${CMAKE_SOURCE_DIR}/scraper
    ${CMAKE_SOURCE_DIR}/common)
  target_compile_options(fuzz_extract PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_extract PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_extract PkgConfig::GUMBO PkgConfig::UCHARDET WF4::phonenumber)
  set(fuzz_extract_work ${CMAKE_CURRENT_BINARY_DIR}/fuzz_extract_work)
  file(MAKE_DIRECTORY ${fuzz_extract_work})
  add_test(NAME fuzz_extract
    COMMAND fuzz_extract -max_total_time=30 -timeout=10 -rss_limit_mb=2048
      -max_len=65536 ${fuzz_extract_work} ${WF4_TEST_DIR}/fuzz/corpus_extract)
  set_tests_properties(fuzz_extract PROPERTIES LABELS fuzz TIMEOUT 120)
endif()

# Not a test: the cost of extract_page per page, for bench/README.md (run it under
# valgrind --tool=callgrind --toggle-collect=extract_page for repeatable counts).
add_executable(extract_cost ${WF4_TEST_DIR}/tools/extract_cost.c)
target_link_libraries(extract_cost scraper_core)
