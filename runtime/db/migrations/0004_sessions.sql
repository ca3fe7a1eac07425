-- Agent sessions. The transcript lives here, not in Temporal history: workflows pass
-- session ids, turn/step numbers and tool-call ids, and activities read and append rows.
CREATE TABLE sessions (
    session_id    text PRIMARY KEY,
    principal     jsonb NOT NULL,
    owner_sub     text NOT NULL,
    model_profile text NOT NULL,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    annotations   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz
);
CREATE INDEX sessions_owner_sub ON sessions (owner_sub);

-- One pydantic-ai ModelMessage per row. `key` makes every write idempotent, so an activity
-- retried after a worker crash finds its own earlier write instead of calling the model
-- (or the tool) again: "<turn>:<step>:request", "<turn>:<step>:response", "tool:<tool_call_id>".
CREATE TABLE session_messages (
    session_id   text NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    seq          bigserial,
    key          text NOT NULL,
    turn         integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('request', 'response')),
    message      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, seq),
    UNIQUE (session_id, key)
);

