# Tests of the scraper service: offsets and retry units, no database library in the binary,
# the claim/result test tools, and black-box runs against Kafka and a ScraperAPI stand-in.
include(${WF4_TEST_DIR}/stack.cmake)

foreach(t offsets retry tier share seen)
  add_executable(test_scraper_${t} ${WF4_TEST_DIR}/unit/test_scraper_${t}.c)
  target_link_libraries(test_scraper_${t} scraper_core PkgConfig::CMOCKA)
  add_test(NAME unit_scraper_${t} COMMAND test_scraper_${t})
  set_tests_properties(unit_scraper_${t} PROPERTIES LABELS unit)
endforeach()

# The design's rule: the scraper cannot touch the database because it cannot even link it.
if(TARGET scraper)
  add_test(NAME unit_scraper_links_no_libpq
    COMMAND bash ${WF4_TEST_DIR}/scraper_nolibpq.sh $<TARGET_FILE:scraper>)
  set_tests_properties(unit_scraper_links_no_libpq PROPERTIES LABELS unit)
endif()

# Test tools: claims in, results checked.
add_executable(wf4-claimgen ${WF4_TEST_DIR}/tools/claimgen.c)
target_link_libraries(wf4-claimgen wf4common)
add_executable(wf4-resultcheck ${WF4_TEST_DIR}/tools/resultcheck.c)
target_link_libraries(wf4-resultcheck wf4common)

wf4_integration_test(scraper_throughput scraper_throughput.sh LABELS scraper TIMEOUT 600)
wf4_integration_test(scraper_kill scraper_kill.sh LABELS scraper TIMEOUT 600)
wf4_integration_test(scraper_secret scraper_secret.sh LABELS scraper TIMEOUT 300)
wf4_integration_test(scraper_rebalance_pause scraper_rebalance_pause.sh LABELS scraper TIMEOUT 300)
wf4_integration_test(scraper_share scraper_share.sh LABELS scraper TIMEOUT 400)
wf4_integration_test(scraper_replay scraper_replay.sh LABELS scraper TIMEOUT 300)
