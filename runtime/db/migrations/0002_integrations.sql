-- One row per integration domain ever discovered. Discovery owns the manifest/status
-- columns; admins own enabled, allowed_scopes and required_tier_override, which the
-- registry sync never overwrites. Rows are never deleted: a vanished domain is 'not_found'
-- so its config entries survive a temporary disappearance.
CREATE TABLE integrations (
    domain                 text PRIMARY KEY,
    name                   text NOT NULL,
    version                text NOT NULL,
    status                 text NOT NULL CHECK (status IN ('loaded', 'not_found', 'failed')),
    manifest               jsonb NOT NULL DEFAULT '{}'::jsonb,
    error_key              text,
    enabled                boolean NOT NULL DEFAULT true,
    allowed_scopes         text[] NOT NULL DEFAULT ARRAY['user', 'org', 'global', 'group'],
    required_tier_override smallint CHECK (required_tier_override BETWEEN 0 AND 2),
    first_seen_at          timestamptz NOT NULL DEFAULT now(),
    last_seen_at           timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
