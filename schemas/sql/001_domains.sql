-- WF4 domains table, its state machine, the selection trigger and the claim indexes.

CREATE EXTENSION IF NOT EXISTS pgcrypto; -- gen_random_uuid on older servers (built in since 13)

CREATE TYPE sitemap_curation_status AS ENUM
    ('New', 'Selected', 'Maybe', 'Not a Fit', 'Archived', 'Completed');
CREATE TYPE domain_status AS ENUM ('pending', 'processing', 'completed', 'error');
CREATE TYPE sitemap_analysis_status AS ENUM
    ('pending', 'queued', 'processing', 'submitted', 'failed');

CREATE TABLE domains (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    domain text NOT NULL UNIQUE,
    tenant_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),

    -- what a person sets in the curation UI
    sitemap_curation_status sitemap_curation_status NOT NULL DEFAULT 'New',
    selected_at timestamptz,

    -- metadata extraction: this pipeline's state (NULL = never selected)
    status domain_status,
    error_message text,

    -- WF5 (sitemap analysis); 'queued' is the handoff
    sitemap_analysis_status sitemap_analysis_status,
    sitemap_analysis_error text,
    handoff_event_id uuid UNIQUE,
    handed_off_at timestamptz,

    -- extracted metadata
    title text,
    description text,
    favicon_url text,
    logo_url text,
    language text,
    is_wordpress boolean,
    wordpress_version text,
    has_elementor boolean,
    tech_stack jsonb,
    email_addresses text[],
    phone_numbers text[],
    facebook_url text,
    twitter_url text,
    linkedin_url text,
    instagram_url text,
    youtube_url text,
    completed_at timestamptz,

    -- claim bookkeeping
    claim_id uuid,
    claimed_at timestamptz,
    lease_expires_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,

    CONSTRAINT domains_processing_has_claim
        CHECK (status IS DISTINCT FROM 'processing'
               OR (claim_id IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT domains_error_has_reason
        CHECK (status IS DISTINCT FROM 'error' OR error_message IS NOT NULL)
);

-- The claimer's two queries, each served by a small partial index.
CREATE INDEX domains_pending_due_idx ON domains (next_attempt_at) WHERE status = 'pending';
CREATE INDEX domains_processing_lease_idx ON domains (lease_expires_at)
    WHERE status = 'processing';

-- Selecting a domain makes it pending (unless it is being processed or done) and wakes the
-- claimers, in the database itself so that every writer gets it right.
CREATE FUNCTION domains_on_select() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    IF NEW.sitemap_curation_status = 'Selected'
       AND (TG_OP = 'INSERT' OR OLD.sitemap_curation_status IS DISTINCT FROM 'Selected')
       AND NEW.status IS DISTINCT FROM 'processing'
       AND NEW.status IS DISTINCT FROM 'completed' THEN
        NEW.status := 'pending';
        NEW.error_message := NULL;
        NEW.attempts := 0;
        NEW.next_attempt_at := now();
        NEW.selected_at := now();
        PERFORM pg_notify('wf4_domains_pending', '');
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER domains_on_select BEFORE INSERT OR UPDATE ON domains
    FOR EACH ROW EXECUTE FUNCTION domains_on_select();

-- WF5 handoff events written in the committer's transaction, published after commit.
CREATE TABLE wf5_outbox (
    event_id uuid PRIMARY KEY,
    domain_id uuid NOT NULL REFERENCES domains (id),
    claim_id uuid NOT NULL,
    tenant_id uuid,
    domain text NOT NULL,
    completed_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wf5_outbox_created_idx ON wf5_outbox (created_at);
