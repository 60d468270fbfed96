# Black-box test of the ScraperAPI stand-in (tools/scraperapi-standin); it starts the
# stand-in itself on an ephemeral port, so it needs no stack.
add_test(NAME unit_standin
  COMMAND bash ${WF4_TEST_DIR}/standin_test.sh $<TARGET_FILE:scraperapi-standin>)
set_tests_properties(unit_standin PROPERTIES LABELS unit TIMEOUT 180)
