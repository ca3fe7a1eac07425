-- Durable event delivery (docs/events.md): the outbox gets idempotency keys and a session
-- column, plugins get per-scope configurations, every (event, subscriber) pair a delivery
-- row, poison events a dead letter, and sessions the observer snapshots and completion
-- outcomes of the integrations that watched them.

-- A retried activity writes the same event again; the key (derived from the transcript key
-- of the write that caused it) makes the second insert a no-op. NULL keys never conflict:
-- events written inside the transaction of the change they describe need none.
ALTER TABLE events
    ADD COLUMN key            text,
    ADD COLUMN session_id     text,
    ADD COLUMN schema_version integer NOT NULL DEFAULT 1,
    -- Set when the dispatcher has created the event's delivery rows (possibly none).
    -- delivered_at (0005) is set once no delivery of the event is pending any more.
    ADD COLUMN routed_at      timestamptz,
    ADD CONSTRAINT events_key UNIQUE (key);
CREATE INDEX events_unrouted ON events (id) WHERE routed_at IS NULL;
CREATE INDEX events_session ON events (session_id, id) WHERE session_id IS NOT NULL;

-- One configuration of a plugin for one scope, owned like a config entry. Non-secret
-- variables live here; secret ones are envelopes in secret_values (owner_kind 'plugin_config').
CREATE TABLE plugin_configs (
    id                text PRIMARY KEY,
    plugin_id         text NOT NULL,
    scope             text NOT NULL CHECK (scope IN ('user', 'org', 'global', 'group')),
    owner_sub         text,
    org_id            text,
    group_id          text,
    variables         jsonb NOT NULL DEFAULT '{}'::jsonb,
    secret_variables  text[] NOT NULL DEFAULT '{}',
    enabled           boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plugin_configs_owner_matches_scope CHECK (
        (scope = 'user'   AND owner_sub IS NOT NULL AND org_id IS NULL AND group_id IS NULL) OR
        (scope = 'org'    AND owner_sub IS NULL AND org_id IS NOT NULL AND group_id IS NULL) OR
        (scope = 'group'  AND owner_sub IS NULL AND group_id IS NOT NULL) OR
        (scope = 'global' AND owner_sub IS NULL AND org_id IS NULL AND group_id IS NULL)
    )
);
CREATE UNIQUE INDEX plugin_configs_owner ON plugin_configs (
    plugin_id, scope, coalesce(owner_sub, ''), coalesce(org_id, ''), coalesce(group_id, '')
);

-- One row per event and subscriber ('plugin:<config id>' or 'entry:<entry id>'). `stream`
-- is the ordering unit ('session:<id>', 'entry:<id>' or 'global'): one delivery workflow
-- per (subscriber, stream) takes its pending rows in event order.
CREATE TABLE event_deliveries (
    event_id      bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subscriber    text NOT NULL,
    stream        text NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead', 'skipped')),
    attempts      integer NOT NULL DEFAULT 0,
    -- A stable key for skipped rows (subscriber_disabled ...), never a message.
    reason        text,
    -- The last handler failure as "<ExceptionType>: <scrubbed, capped message>".
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- When the dispatcher last signalled this row's delivery workflow; rows pending long
    -- after that are signalled again (a lost signal, a worker killed between commit and signal).
    woken_at      timestamptz NOT NULL DEFAULT now(),
    first_attempt_at timestamptz,
    last_attempt_at  timestamptz,
    finished_at   timestamptz,
    PRIMARY KEY (event_id, subscriber)
);
CREATE INDEX event_deliveries_pending ON event_deliveries (subscriber, stream, event_id) WHERE status = 'pending';
CREATE INDEX event_deliveries_pending_woken ON event_deliveries (woken_at) WHERE status = 'pending';

-- A poison event: its handler failed on every one of the allowed attempts.
CREATE TABLE event_dead_letters (
    id          bigserial PRIMARY KEY,
    event_id    bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subscriber  text NOT NULL,
    stream      text NOT NULL,
    attempts    integer NOT NULL,
    error       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, subscriber)
);

-- Observer snapshots per entry: {"observers": {"<entry id>": {"domain": ..., "snapshot": {...}}}}.
ALTER TABLE sessions ADD COLUMN logs jsonb NOT NULL DEFAULT '{}'::jsonb;

-- What each integration entry's run_completion did for a session.
CREATE TABLE session_completions (
    session_id  text NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    entry_id    text NOT NULL,
    domain      text NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ok', 'skipped', 'failed')),
    reason      text,
    last_error  text,
    attempts    integer NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, entry_id)
);
