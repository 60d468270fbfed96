-- The WF5 outbox holds one row per applied batch instead of one per domain.
--
-- Measured by bench/dbthroughput.sh: inserting one outbox row per completed domain (a heap
-- tuple and two index entries) and deleting it once Kafka acknowledged its event cost
-- 10-15 us of the committer's 35-50 us of PostgreSQL time per result (the same statement
-- without the outbox: 20,900-26,000 results/s instead of 16,000-17,700). A batch's events
-- now travel as parallel arrays in one row, written by the statement that completes the
-- batch's domains, and the row is deleted once Kafka has acknowledged every one of its
-- events. A row with an event Kafka refused stays for the sweep, which publishes all its
-- events again: WF5 already receives each event at least once, keyed by event_id.
--
-- Events still waiting in the old per-domain table move over, one batch row each.

CREATE TABLE wf5_outbox_batches (
    batch_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_ids uuid[] NOT NULL,
    domain_ids uuid[] NOT NULL,
    claim_ids uuid[] NOT NULL,
    tenant_ids uuid[] NOT NULL, -- NULL elements: no tenant
    domains text[] NOT NULL,
    completed_at timestamptz NOT NULL, -- the committing transaction's time: one per batch
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wf5_outbox_batches_aligned CHECK (
        cardinality(event_ids) > 0
        AND cardinality(domain_ids) = cardinality(event_ids)
        AND cardinality(claim_ids) = cardinality(event_ids)
        AND cardinality(tenant_ids) = cardinality(event_ids)
        AND cardinality(domains) = cardinality(event_ids))
);
CREATE INDEX wf5_outbox_batches_created_idx ON wf5_outbox_batches (created_at);
-- A batch's arrays (tens of kB) are stored out of line uncompressed: pglz found little to
-- gain in random UUIDs and cost 2 % of the committer's backend (perf).
ALTER TABLE wf5_outbox_batches ALTER COLUMN event_ids SET STORAGE EXTERNAL,
    ALTER COLUMN domain_ids SET STORAGE EXTERNAL, ALTER COLUMN claim_ids SET STORAGE EXTERNAL,
    ALTER COLUMN tenant_ids SET STORAGE EXTERNAL, ALTER COLUMN domains SET STORAGE EXTERNAL;

INSERT INTO wf5_outbox_batches (event_ids, domain_ids, claim_ids, tenant_ids, domains,
                                completed_at, created_at)
    SELECT ARRAY[event_id], ARRAY[domain_id], ARRAY[claim_id], ARRAY[tenant_id], ARRAY[domain],
           completed_at, created_at
    FROM wf5_outbox;

DROP TABLE wf5_outbox;
ALTER TABLE wf5_outbox_batches RENAME TO wf5_outbox;
ALTER TABLE wf5_outbox RENAME CONSTRAINT wf5_outbox_batches_pkey TO wf5_outbox_pkey;
ALTER TABLE wf5_outbox RENAME CONSTRAINT wf5_outbox_batches_aligned TO wf5_outbox_aligned;
ALTER INDEX wf5_outbox_batches_created_idx RENAME TO wf5_outbox_created_idx;

GRANT SELECT, INSERT, DELETE ON wf5_outbox TO wf4_service;
