-- Entities pulled from (or pushed by) config entries, the change events a sync emits,
-- what each sync run did, and the per-entry webhook tokens and deliveries.
-- Nothing here holds a secret value: webhook tokens are stored as SHA-256 hashes only.

CREATE TABLE entities (
    entry_id      text NOT NULL REFERENCES config_entries (id) ON DELETE CASCADE,
    entity_id     text NOT NULL,
    type          text NOT NULL,
    state         text,
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    actions       text[] NOT NULL DEFAULT '{}',
    -- Who wrote the row first: a pull, a push (webhook) or the one-time seed. A full pull
    -- deletes what it did not report, except seeded rows: those the integration owns itself.
    source        text NOT NULL DEFAULT 'pull' CHECK (source IN ('pull', 'push', 'seed')),
    -- SHA-256 of the canonical JSON of (type, state, attributes, actions): a sync compares
    -- hashes instead of documents, and an unchanged entity is never rewritten.
    content_hash  bytea NOT NULL,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    -- Set when the row is written. Unchanged rows are deliberately not touched on every pull
    -- (that would rewrite every row every interval); entity_entry_state.last_full_pull_at
    -- says when every entity still present was last confirmed.
    last_seen     timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, entity_id)
);
CREATE INDEX entities_entry_type ON entities (entry_id, type);

-- Domain events, written in the same transaction as the change they describe; a delivery
-- process (a later issue) sets delivered_at. No foreign key on entry_id: an entry's last
-- events (entity.deleted ...) must outlive the entry until they are delivered.
CREATE TABLE events (
    id            bigserial PRIMARY KEY,
    type          text NOT NULL,
    entry_id      text,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz
);
CREATE INDEX events_undelivered ON events (id) WHERE delivered_at IS NULL;
CREATE INDEX events_entry ON events (entry_id, id);

-- Per entry: whether async_initial_entities has seeded it (once, ever) and when the last
-- full pull confirmed the whole entity set.
CREATE TABLE entity_entry_state (
    entry_id           text PRIMARY KEY REFERENCES config_entries (id) ON DELETE CASCADE,
    seeded_at          timestamptz,
    last_full_pull_at  timestamptz
);

-- One row per sync attempt that got as far as a decision: ok, skipped (health down, entry
-- disabled) or failed (after retries). Queryable history of an entry's syncs.
CREATE TABLE entity_sync_runs (
    id           bigserial PRIMARY KEY,
    entry_id     text NOT NULL REFERENCES config_entries (id) ON DELETE CASCADE,
    workflow_id  text,
    kind         text NOT NULL CHECK (kind IN ('pull', 'seed', 'webhook')),
    status       text NOT NULL CHECK (status IN ('ok', 'skipped', 'failed')),
    -- A stable key (health_down, entry_disabled, entity_invalid ...), never a message.
    reason       text,
    created      integer NOT NULL DEFAULT 0,
    updated      integer NOT NULL DEFAULT 0,
    deleted      integer NOT NULL DEFAULT 0,
    unchanged    integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entity_sync_runs_entry ON entity_sync_runs (entry_id, id DESC);

-- The per-entry webhook token, as a hash: the plaintext is shown once when it is created.
CREATE TABLE webhook_tokens (
    entry_id    text PRIMARY KEY REFERENCES config_entries (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- An accepted webhook body waits here for its workflow: the workflow carries only the
-- delivery id, so third-party payloads stay out of Temporal history.
CREATE TABLE webhook_deliveries (
    id            text PRIMARY KEY,
    entry_id      text NOT NULL REFERENCES config_entries (id) ON DELETE CASCADE,
    payload       jsonb NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    outcome       jsonb
);
CREATE INDEX webhook_deliveries_entry ON webhook_deliveries (entry_id, received_at);
