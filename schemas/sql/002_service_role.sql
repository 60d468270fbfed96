-- The services' database role: only the privileges they need, never a superuser.
-- Login users are created by the deployment (stack script, compose init) IN ROLE wf4_service.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wf4_service') THEN
        CREATE ROLE wf4_service NOLOGIN;
    END IF;
END;
$$;

GRANT USAGE ON SCHEMA public TO wf4_service;
GRANT SELECT, UPDATE ON domains TO wf4_service;
GRANT SELECT, INSERT, DELETE ON wf5_outbox TO wf4_service;
GRANT SELECT ON schema_migrations TO wf4_service;
-- Selecting domains (demo, wf4ctl select) inserts them.
GRANT INSERT ON domains TO wf4_service;
