-- The credit budget's day (issue 23): ScraperAPI's /account reports the credits used in the
-- billing cycle (requestCount), not per day. The claimer records that count at the first
-- /account read of each UTC day; today's spend is the count now less this one (a cycle that
-- restarts during the day counts from zero). Written only when WF4_CREDITS_DAILY_BUDGET is
-- set: one row a day, the first claimer to read the account wins (ON CONFLICT DO NOTHING).
CREATE TABLE credits_days (
    day date PRIMARY KEY,                          -- the UTC day
    request_count_at_start bigint NOT NULL CHECK (request_count_at_start >= 0),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text                               -- the claimer's WF4_INSTANCE_ID
);

GRANT SELECT, INSERT ON credits_days TO wf4_service;
