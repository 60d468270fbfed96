-- ScraperAPI credits and tiers (issue 23), kept by the statements that already run: the
-- committer's apply statements add each result's credits and record its tier, the claimer's
-- claim statement reads the stored tier into the claim (the scraper starts there).
--
-- domains.credits_spent: every credit charged for the domain, all attempts: an applied
-- result's and a superseded (stale) one's, since those calls were paid too. Counted once per
-- claim: a result is added when its attempt row is completed (applied) or first marked
-- superseded, and a replayed result finds that row done and adds nothing.
-- domains.scrape_tier: the tier that answered the last successful scrape (plain, render,
-- premium, ultra_premium; NULL: never scraped successfully).
-- domain_attempts.credits / tier: what that attempt's result said (NULL: no result yet).
--
-- No index: nothing looks rows up by these columns; credits_spent is set by the same UPDATE
-- that completes the row, which is not HOT anyway (it changes status).

ALTER TABLE domains
    ADD COLUMN credits_spent bigint NOT NULL DEFAULT 0,
    ADD COLUMN scrape_tier text;

ALTER TABLE domain_attempts
    ADD COLUMN credits bigint,
    ADD COLUMN tier text;
