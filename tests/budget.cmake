# Issue 23's credit budget (daily budget and floor) and the /account client it reads.
include(${WF4_TEST_DIR}/stack.cmake)

# common/account.c and api_url.c: ScraperAPI's /account answer, the key redacted from URLs.
add_executable(test_account ${WF4_TEST_DIR}/unit/test_account.c)
target_link_libraries(test_account wf4common PkgConfig::CMOCKA)
add_test(NAME unit_account COMMAND test_account)
set_tests_properties(unit_account PROPERTIES LABELS "unit;credits")

# common/credits.c: the credit budget's arithmetic (day rollover, floor, unknown answer).
add_executable(test_credits ${WF4_TEST_DIR}/unit/test_credits.c)
target_link_libraries(test_credits wf4common PkgConfig::CMOCKA)
add_test(NAME unit_credits COMMAND test_credits)
set_tests_properties(unit_credits PROPERTIES LABELS "unit;credits")

# The credit budget (daily budget and floor) on the whole pipeline against the stand-in.
wf4_integration_test(integration_budget budget_test.sh LABELS credits TIMEOUT 400)
