"""Forms derived from pydantic models: the model decides the fields and what is valid."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from runtime.integrations.fields import validate_form
from runtime.integrations.flow import FlowResultType
from runtime.integrations.model_form import (
    ModelConfigFlow,
    ModelFormError,
    fields_from_model,
    model_data,
    validate_with_model,
)


class Region(str, Enum):
    EU = "eu"
    US = "us"


class ServiceConfig(BaseModel):
    base_url: str = Field(title="Base URL", description="field.base_url.description", max_length=200,
                          json_schema_extra={"placeholder": "https://example.com"})
    api_key: SecretStr = Field(title="API key")
    pin: SecretStr | None = Field(default=None, json_schema_extra={"form_type": "password"})
    timeout: Annotated[float, Field(ge=1, le=60)] = 10.0
    retries: int = Field(default=3, ge=0, lt=10)
    verify_tls: bool = True
    region: Region = Region.EU
    mode: Literal["fast", "safe"] = "safe"
    tags: list[Literal["a", "b"]] = Field(default_factory=list)
    start: date | None = None
    at: time | None = None
    since: datetime | None = None
    every: timedelta = timedelta(minutes=90)

    @field_validator("base_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("base_url_not_https")
        return value

    @model_validator(mode="after")
    def _pin_needs_tls(self) -> "ServiceConfig":
        if self.pin is not None and not self.verify_tls:
            raise PydanticCustomError("pin_needs_tls", "a PIN is only sent over verified TLS")
        return self


def test_fields_follow_the_model_types_requiredness_labels_and_bounds():
    fields = {f.name: f for f in fields_from_model(ServiceConfig)}
    assert list(fields) == list(ServiceConfig.model_fields)
    assert {n: f.type for n, f in fields.items()} == {
        "base_url": "text", "api_key": "secret", "pin": "password", "timeout": "number", "retries": "number",
        "verify_tls": "bool", "region": "select", "mode": "select", "tags": "select", "start": "date",
        "at": "time", "since": "datetime", "every": "duration",
    }
    assert {n for n, f in fields.items() if f.required} == {"base_url", "api_key"}
    assert fields["base_url"].label == "Base URL" and fields["base_url"].max_length == 200
    assert fields["base_url"].description == "field.base_url.description"
    assert fields["base_url"].placeholder == "https://example.com"
    assert (fields["timeout"].min, fields["timeout"].max, fields["timeout"].default) == (1, 60, 10.0)
    assert (fields["retries"].min, fields["retries"].max) == (0, 10)
    assert [o.value for o in fields["region"].options] == ["eu", "us"] and fields["region"].default == "eu"
    assert fields["tags"].multiple and fields["tags"].default == []
    assert fields["every"].default == "01:30:00"
    assert fields["api_key"].default is None and fields["pin"].default is None


def test_valid_data_gives_the_model_and_json_ready_data_with_secrets_in_clear():
    instance, errors = validate_with_model(ServiceConfig, {"base_url": "https://x", "api_key": "k-1",
                                                           "tags": ["b"], "every": "00:05:00"})
    assert errors == {} and isinstance(instance, ServiceConfig)
    data = model_data(instance)
    assert data["api_key"] == "k-1" and data["region"] == "eu" and data["tags"] == ["b"]
    assert data["every"] == "00:05:00"  # the form's own duration format, not ISO 8601


@pytest.mark.parametrize(
    ("change", "field", "key"),
    [
        ({"base_url": None}, "base_url", "invalid_type"),
        ({"api_key": None}, "api_key", "invalid_type"),
        ({"timeout": "slow"}, "timeout", "invalid_number"),
        ({"timeout": 0.5}, "timeout", "below_minimum"),
        ({"retries": 10}, "retries", "above_maximum"),
        ({"retries": 1.5}, "retries", "invalid_number"),
        ({"verify_tls": "perhaps"}, "verify_tls", "invalid_type"),
        ({"region": "mars"}, "region", "invalid_option"),
        ({"mode": "turbo"}, "mode", "invalid_option"),
        ({"tags": ["c"]}, "tags", "invalid_option"),
        ({"start": "2023-02-30"}, "start", "invalid_date"),
        ({"at": "25:61"}, "at", "invalid_time"),
        ({"since": "yesterday"}, "since", "invalid_datetime"),
        ({"every": "forever"}, "every", "invalid_duration"),
        ({"base_url": "https://" + "x" * 200}, "base_url", "too_long"),
        ({"base_url": "http://plain"}, "base_url", "base_url_not_https"),  # a validator's own key
        ({"pin": "1234", "verify_tls": False}, "base", "pin_needs_tls"),  # a model-level custom error
    ],
)
def test_model_errors_map_to_per_field_error_keys(change, field, key):
    instance, errors = validate_with_model(ServiceConfig, {"base_url": "https://x", "api_key": "k", **change})
    assert instance is None and errors == {field: key}


def test_missing_required_fields_are_required_and_no_value_reaches_the_errors():
    instance, errors = validate_with_model(ServiceConfig, {"api_key": "sk-do-not-echo", "retries": "x" * 5})
    assert errors == {"base_url": "required", "retries": "invalid_number"}
    assert "sk-do-not-echo" not in repr(errors)


def test_engine_validation_of_derived_fields_agrees_with_the_model():
    fields = fields_from_model(ServiceConfig)
    clean, errors = validate_form(fields, {"base_url": "https://x", "api_key": "k", "retries": "4",
                                           "verify_tls": "off", "every": "00:10:00", "region": "us"})
    assert errors == {}
    instance, model_errors = validate_with_model(ServiceConfig, clean)
    assert model_errors == {} and instance.retries == 4 and instance.verify_tls is False
    assert instance.every == timedelta(minutes=10) and instance.region is Region.US


def test_unsupported_annotations_fail_loudly_at_class_definition():
    class Nested(BaseModel):
        inner: dict[str, Any]

    with pytest.raises(ModelFormError) as err:
        fields_from_model(Nested)
    assert err.value.key == "model_form_unsupported_type"

    class IntChoices(BaseModel):
        level: Literal[1, 2]

    with pytest.raises(ModelFormError):
        fields_from_model(IntChoices)


class ServiceFlow(ModelConfigFlow):
    domain = "service"
    MODEL = ServiceConfig
    TITLE_FIELD = "base_url"
    checked: list[str] = []

    async def validate(self, data: dict[str, Any]) -> str | None:
        type(self).checked.append(self.model_instance.base_url)
        return "auth_failed" if data["api_key"] == "wrong" else None


async def test_model_config_flow_builds_its_form_and_validates_through_the_model():
    assert [f.name for f in ServiceFlow.SCHEMA] == list(ServiceConfig.model_fields)
    flow = ServiceFlow()
    first = await flow.async_step_user(None)
    assert first.type == FlowResultType.FORM and first.fields == ServiceFlow.SCHEMA

    rejected = await flow.async_step_user({"base_url": "http://x", "api_key": "k"})
    assert rejected.type == FlowResultType.FORM and rejected.errors == {"base_url": "base_url_not_https"}
    assert ServiceFlow.checked == []  # the model rejected it before the connection check

    auth = await flow.async_step_user({"base_url": "https://x", "api_key": "wrong"})
    assert auth.errors == {"base": "auth_failed"}

    created = await flow.async_step_user({"base_url": "https://x", "api_key": "right"})
    assert created.type == FlowResultType.CREATE_ENTRY and created.title == "https://x"
    assert created.data["api_key"] == "right" and created.data["retries"] == 3
