"""Form fields of a config flow: JSON-serialisable descriptors the UI renders generically.

``password`` and ``secret`` values are envelope-encrypted at rest; ``password``
reads back masked, ``secret`` is write-only. Every submitted value is validated
server-side against its descriptor; failures are per-field error *keys*
resolved through the integration's translations.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

FieldType = Literal[
    "text", "password", "secret", "number", "bool", "select", "note",
    "entity", "device", "area", "duration", "date", "time", "datetime", "color",
]
SECRET_TYPES = frozenset({"password", "secret"})
SELECTOR_TYPES = frozenset({"entity", "device", "area", "duration", "date", "time", "datetime", "color"})
MAX_TEXT_LENGTH = 8192
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DURATION = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")


class SelectOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str
    label: str


class FieldDescriptor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$", max_length=64)
    label: str = ""
    type: FieldType = "text"
    required: bool = False
    description: str | None = None
    placeholder: str | None = None
    default: Any = None
    options: tuple[SelectOption, ...] = ()
    multiple: bool = False
    min: float | None = None
    max: float | None = None
    max_length: int = Field(default=MAX_TEXT_LENGTH, ge=1)
    pattern: str | None = None
    image: str | None = Field(default=None, description="note fields: data URL or URL of an image, e.g. a QR code")
    selector: dict[str, Any] = Field(default_factory=dict, description="typed selector options (entity domain, ...)")

    @model_validator(mode="after")
    def _shape(self) -> "FieldDescriptor":
        if self.type == "select" and not self.options:
            raise ValueError(f"select field {self.name!r} needs options")
        if self.type == "note" and self.required:
            raise ValueError(f"note field {self.name!r} is read-only and cannot be required")
        return self

    @property
    def is_secret(self) -> bool:
        return self.type in SECRET_TYPES

    @property
    def accepts_input(self) -> bool:
        return self.type != "note"


class FieldValidationError(ValueError):
    """One field failed; ``error_key`` is resolved through translations (``error.<key>``)."""

    def __init__(self, field: str, error_key: str) -> None:
        super().__init__(f"{field}: {error_key}")
        self.field = field
        self.error_key = error_key


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


def coerce_value(field: FieldDescriptor, value: Any) -> Any:
    """Validate and normalise one submitted value; raise :class:`FieldValidationError` with a key."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    t = field.type
    if t in ("text", "password", "secret", "entity", "device", "area"):
        if not isinstance(value, str):
            raise FieldValidationError(field.name, "invalid_type")
        if len(value) > field.max_length:
            raise FieldValidationError(field.name, "too_long")
        if "\x00" in value:
            raise FieldValidationError(field.name, "invalid_characters")
        if field.pattern and not re.fullmatch(field.pattern, value):
            raise FieldValidationError(field.name, "invalid_format")
        return value
    if t == "number":
        if isinstance(value, bool):
            raise FieldValidationError(field.name, "invalid_type")
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise FieldValidationError(field.name, "invalid_number") from None
        if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            raise FieldValidationError(field.name, "invalid_number")
        if field.min is not None and value < field.min:
            raise FieldValidationError(field.name, "below_minimum")
        if field.max is not None and value > field.max:
            raise FieldValidationError(field.name, "above_maximum")
        return value
    if t == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "on", "off", "1", "0"):
            return value.lower() in ("true", "on", "1")
        raise FieldValidationError(field.name, "invalid_type")
    if t == "select":
        allowed = {o.value for o in field.options}
        values = value if field.multiple and isinstance(value, list) else [value]
        if not all(isinstance(v, str) and v in allowed for v in values):
            raise FieldValidationError(field.name, "invalid_option")
        return values if field.multiple else values[0]
    if t == "color":
        if not isinstance(value, str) or not _COLOR.match(value):
            raise FieldValidationError(field.name, "invalid_color")
        return value
    if t == "duration":
        if not isinstance(value, str) or not _DURATION.match(value):
            raise FieldValidationError(field.name, "invalid_duration")
        return value
    parsers = {"date": date.fromisoformat, "time": time.fromisoformat, "datetime": datetime.fromisoformat}
    if t in parsers:
        if not isinstance(value, str) or len(value) > 64:
            raise FieldValidationError(field.name, "invalid_type")
        try:
            parsers[t](value)
        except ValueError:
            raise FieldValidationError(field.name, f"invalid_{t}") from None
        return value
    raise FieldValidationError(field.name, "invalid_type")  # note fields never take input


def validate_form(fields: list[FieldDescriptor], submitted: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a whole step's input: ``(clean values, {field: error_key})``. Unknown keys are an error."""
    by_name = {f.name: f for f in fields}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in submitted:
        if key not in by_name or not by_name[key].accepts_input:
            errors[str(key)[:64]] = "unknown_field"
    for field in fields:
        if not field.accepts_input:
            continue
        value = submitted.get(field.name)
        if _is_blank(value):
            if field.required:
                errors[field.name] = "required"
            elif field.default is not None:
                clean[field.name] = field.default
            continue
        try:
            clean[field.name] = coerce_value(field, value)
        except FieldValidationError as exc:
            errors[field.name] = exc.error_key
    return clean, errors
