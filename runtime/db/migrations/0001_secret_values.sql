-- Envelope-encrypted secret fields of any owner (config entries, flow state, plugin variables).
-- The associated data of each envelope is "<owner_kind>:<owner_id>:<field>", so a row copied
-- to another owner or field does not decrypt.
CREATE TABLE secret_values (
    id          bigserial PRIMARY KEY,
    owner_kind  text NOT NULL,
    owner_id    text NOT NULL,
    field       text NOT NULL,
    alg         text NOT NULL,
    kek_id      text NOT NULL,
    wrapped_dek text NOT NULL,
    nonce       text NOT NULL,
    ciphertext  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_kind, owner_id, field)
);
CREATE INDEX secret_values_kek_id ON secret_values (kek_id);
