-- domains.handoff_event_id keeps its values but loses its UNIQUE constraint and the index
-- behind it.
--
-- Every UPDATE of domains that is not HOT adds an entry to every index of the table, and
-- both hot-path updates are not HOT: a claim and a completion change status, which the
-- partial indexes' predicates read. So each claim added a NULL to this index and each
-- completion a random uuid. perf over the completing UPDATE: index insertion was 37 % of
-- the backend's time; the same UPDATE of 50,000 rows in batches of 1,000, seven interleaved
-- pairs, took 1,460 ms (median) without this index against 1,550 ms with it. No query reads
-- it: nothing looks a domain up by its event id. The ids come from gen_random_uuid() in the
-- statement that completes the row (122 random bits); WF5 deduplicates on event_id on its
-- side; the tests still count them distinct.

ALTER TABLE domains DROP CONSTRAINT domains_handoff_event_id_key;
