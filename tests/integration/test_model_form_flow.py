"""A ModelConfigFlow driven by the engine: the model's rules reach the client as translated field errors."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from runtime.integrations.model_form import ModelConfigFlow

from .flow_helpers import ALICE, make_env, make_loaded, register_rows


class Account(BaseModel):
    email: str = Field(title="E-mail", max_length=100)
    password: SecretStr = Field(json_schema_extra={"form_type": "password"})
    port: int = Field(default=993, ge=1, le=65535)

    @field_validator("email")
    @classmethod
    def _has_at(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("invalid_email")
        return value


class AccountFlow(ModelConfigFlow):
    domain = "account"
    MODEL = Account
    TITLE_FIELD = "email"


async def test_model_flow_validates_through_the_model_and_stores_the_password_encrypted(pool, secret_store, tmp_path):
    env = await make_env(pool, secret_store, tmp_path)
    loaded = env.registry.add(make_loaded(tmp_path, "account", flow=AccountFlow, single_instance=False,
                                          translations={"en": {"error": {"invalid_email": "Not an e-mail address"}}}))
    await register_rows(pool, loaded)
    form = await env.flows.start("account", ALICE)
    assert [(f.name, f.type, f.label) for f in form.fields] == [
        ("email", "text", "E-mail"), ("password", "password", "password"), ("port", "number", "port")]

    bad = await env.flows.submit(form.flow_id, {"email": "nobody", "password": "pw-123456789012"}, ALICE)
    assert {k: (e.key, e.text) for k, e in bad.errors.items()} == {"email": ("invalid_email", "Not an e-mail address")}

    done = await env.flows.submit(form.flow_id, {"email": "a@b.c", "password": "pw-123456789012"}, ALICE)
    entry = await env.entries.get(done.entry_id)
    assert (entry.title, entry.data, entry.secret_fields) == ("a@b.c", {"email": "a@b.c", "port": 993}, ["password"])
    assert (await env.entries.read_masked(entry.id))["secrets"] == {"password": "••••9012"}
