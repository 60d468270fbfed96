# The compose stack built and run for real (docker.io engine, docker-compose 1.29.2, images
# built from this repository on a local base image): 500 domains through 2 claimers,
# 3 scrapers and 2 committers. Label "compose" (not "integration": it needs no stack fixture,
# it brings up its own stack in containers). The script keeps its own deadline below TIMEOUT,
# so its `docker-compose down -v` trap always runs.
add_test(NAME compose_stack COMMAND bash ${WF4_TEST_DIR}/compose_test.sh)
set_tests_properties(compose_stack PROPERTIES
  LABELS compose
  TIMEOUT 1500
  RUN_SERIAL TRUE
  ENVIRONMENT "WF4_COMPOSE_BUDGET_S=1380")

# The secured compose stack (compose.yaml + compose.secure.yaml): SASL_SSL, ACLs, TLS to
# PostgreSQL, Docker secrets; what the broker and PostgreSQL refuse; no secret in any log.
# About 110 s with the images cached (2 cores, loaded), 130-145 s with the services image
# rebuilt; its own deadline below TIMEOUT for the `down -v` trap.
add_test(NAME compose_secure_stack COMMAND bash ${WF4_TEST_DIR}/compose_secure_test.sh)
set_tests_properties(compose_secure_stack PROPERTIES
  LABELS compose
  TIMEOUT 1200
  RUN_SERIAL TRUE
  ENVIRONMENT "WF4_COMPOSE_SECURE_BUDGET_S=1080")
