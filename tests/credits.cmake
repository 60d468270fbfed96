# Issue 23: the ScraperAPI account as a metered resource (credits, max_cost, tiers), on the
# whole pipeline against the stand-in.
include(${WF4_TEST_DIR}/stack.cmake)

wf4_integration_test(integration_credits credits_test.sh LABELS scraper credits TIMEOUT 600)
wf4_integration_test(integration_tier tier_test.sh LABELS scraper credits TIMEOUT 600)
