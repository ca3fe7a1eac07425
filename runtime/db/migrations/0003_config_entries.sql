-- Config entries (one configured instance of an integration) and in-progress config flows.
-- Secret fields of both live in secret_values (owner_kind 'config_entry' / 'config_flow'),
-- envelope-encrypted with the owner bound into the associated data; these tables hold
-- only non-secret values.

CREATE TABLE config_entries (
    id                     text PRIMARY KEY,
    -- No ON DELETE CASCADE: integration rows are never deleted (a vanished domain is
    -- 'not_found'), and an entry must outlive a temporary disappearance of its code.
    domain                 text NOT NULL REFERENCES integrations (domain),
    title                  text NOT NULL DEFAULT '',
    scope                  text NOT NULL CHECK (scope IN ('user', 'org', 'global', 'group')),
    owner_sub              text,
    org_id                 text,
    group_id               text,
    unique_id              text,
    data                   jsonb NOT NULL DEFAULT '{}'::jsonb,
    options                jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Field name -> 'password' | 'secret' for each secret field, so reads know how to mask.
    secret_kinds           jsonb NOT NULL DEFAULT '{}'::jsonb,
    version                integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    state                  text NOT NULL DEFAULT 'not_loaded' CHECK (state IN (
                               'not_loaded', 'loaded', 'setup_error', 'setup_retry', 'setup_in_progress',
                               'migration_error', 'failed_unload', 'not_found')),
    state_reason           text,
    disabled               boolean NOT NULL DEFAULT false,
    required_tier_override smallint CHECK (required_tier_override BETWEEN 0 AND 2),
    -- Bumped on every configuration change (not on state changes), so a per-worker setup
    -- cache keyed by (id, revision) never serves a stale configuration.
    revision               bigint NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    -- Exactly the owner columns the scope needs, and no others: visibility rules read them.
    CONSTRAINT config_entries_owner_matches_scope CHECK (
        (scope = 'user'   AND owner_sub IS NOT NULL AND org_id IS NULL AND group_id IS NULL) OR
        (scope = 'org'    AND owner_sub IS NULL AND org_id IS NOT NULL AND group_id IS NULL) OR
        (scope = 'group'  AND owner_sub IS NULL AND group_id IS NOT NULL) OR
        (scope = 'global' AND owner_sub IS NULL AND org_id IS NULL AND group_id IS NULL)
    )
);
CREATE INDEX config_entries_domain ON config_entries (domain);
CREATE INDEX config_entries_owner_sub ON config_entries (owner_sub) WHERE owner_sub IS NOT NULL;
CREATE INDEX config_entries_org_id ON config_entries (org_id) WHERE org_id IS NOT NULL;
CREATE INDEX config_entries_group_id ON config_entries (group_id) WHERE group_id IS NOT NULL;
-- One entry per unique_id within a domain and owner (HA's _abort_if_unique_id_configured).
CREATE UNIQUE INDEX config_entries_unique_id ON config_entries (
    domain, scope, coalesce(owner_sub, ''), coalesce(org_id, ''), coalesce(group_id, ''), unique_id
) WHERE unique_id IS NOT NULL;

CREATE TABLE config_flows (
    flow_id          text PRIMARY KEY,
    domain           text NOT NULL REFERENCES integrations (domain),
    principal_sub    text NOT NULL,
    step_id          text NOT NULL,
    source           text NOT NULL CHECK (source IN ('user', 'reconfigure', 'reauth')),
    context          jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Non-secret values collected so far; password/secret values are in secret_values.
    collected        jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- The fields of the form last shown: the next submission is validated against them.
    fields           jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- Field name -> type for every field shown so far, to split the final data into data/secrets.
    field_types      jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Optimistic concurrency: two submissions of the same step cannot both advance the flow.
    seq              integer NOT NULL DEFAULT 0,
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX config_flows_expires_at ON config_flows (expires_at);
CREATE INDEX config_flows_principal_sub ON config_flows (principal_sub);
