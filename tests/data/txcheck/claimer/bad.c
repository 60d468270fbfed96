/* Fixture for the tx-control check: a callback that commits by hand (must be caught). */
static const char *bad_sql = "COMMIT";
