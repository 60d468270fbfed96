-- Attempt history: one row per claim, written by the claimer's claim statement and completed
-- by the committer's apply statements (extra CTEs of statements that already run: no extra
-- round trip). wf4ctl trace reads it. The claimer prunes rows older than
-- WF4_ATTEMPTS_RETENTION_DAYS in small batches.
--
-- The trace id of an attempt is its claim_id's 32 hex digits (the W3C traceparent carried as
-- a Kafka header from the claim to the result to the handoff event): nothing to store.
-- Indexes: the primary key (the committer finds its attempt by claim_id), the domain's
-- history for wf4ctl trace, and a BRIN on claimed_at for pruning (rows arrive in claimed_at
-- order; a BRIN entry per 128 pages costs the hot path next to nothing).

CREATE TABLE domain_attempts (
    claim_id uuid PRIMARY KEY,
    domain_id uuid NOT NULL,
    attempt integer NOT NULL,
    claimer_instance text,
    claimed_at timestamptz NOT NULL,
    lease_expires_at timestamptz,
    scraper_instance text,   -- from the result's wf4-scraper-instance header, when present
    api_status integer,      -- last ScraperAPI HTTP status (NULL: no call made)
    retries integer,         -- ScraperAPI calls beyond the first (wf4-retries header)
    api_ms bigint,
    scraped_at timestamptz,
    outcome text,            -- completed | retry | error | superseded; NULL: no result yet
    reason text,
    applied_at timestamptz,
    handoff_event_id uuid
) WITH (fillfactor = 50); -- room on its page for the row's one update (by the committer): HOT,
                          -- no new index entries
CREATE INDEX domain_attempts_domain_idx ON domain_attempts (domain_id, claimed_at);
CREATE INDEX domain_attempts_claimed_brin ON domain_attempts USING brin (claimed_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON domain_attempts TO wf4_service;
