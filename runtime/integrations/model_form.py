"""Config forms derived from a pydantic model: the model is the source of truth.

The model decides what is valid (types, constraints, ``model_validator`` rules); the
form fields are derived from it, never maintained beside it. The engine's generic
per-field checks (:func:`.fields.validate_form`) still run first on every
submission; the model then runs the rules only it knows.

Annotation -> field type: ``str`` text, ``SecretStr`` secret, ``int``/``float`` number,
``bool`` bool, ``Literal``/``Enum`` (of strings) select, ``list[Literal|Enum]``
multi-select, ``date``/``time``/``datetime``, ``timedelta`` duration. ``Optional`` is
unwrapped. ``Field(title=..., description=...)`` give label and description;
``json_schema_extra`` may set ``form_type`` (e.g. ``"password"``), ``label``,
``placeholder``, ``selector``, ``image``.
"""

from __future__ import annotations

import re
import types
import typing
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any, ClassVar, Literal, Mapping, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_core.core_schema import ErrorType

from .errors import IntegrationError
from .fields import FieldDescriptor, SelectOption
from .flow import FlowResult
from .simple_flow import SimpleConfigFlow

_SIMPLE_TYPES: dict[Any, str] = {
    str: "text", SecretStr: "secret", int: "number", float: "number", bool: "bool",
    date: "date", time: "time", datetime: "datetime", timedelta: "duration",
}
# pydantic error type -> our error key (resolved through translations as error.<key>).
_ERROR_KEYS: dict[str, str] = {
    "missing": "required", "string_too_long": "too_long", "too_long": "too_long",
    "string_too_short": "too_short", "too_short": "too_short", "string_pattern_mismatch": "invalid_format",
    "string_type": "invalid_type", "bool_type": "invalid_type", "bool_parsing": "invalid_type",
    "int_type": "invalid_number", "int_parsing": "invalid_number", "int_from_float": "invalid_number",
    "float_type": "invalid_number", "float_parsing": "invalid_number", "finite_number": "invalid_number",
    "greater_than": "below_minimum", "greater_than_equal": "below_minimum",
    "less_than": "above_maximum", "less_than_equal": "above_maximum",
    "literal_error": "invalid_option", "enum": "invalid_option",
    "date_type": "invalid_date", "date_parsing": "invalid_date", "date_from_datetime_parsing": "invalid_date",
    "time_type": "invalid_time", "time_parsing": "invalid_time",
    "datetime_type": "invalid_datetime", "datetime_parsing": "invalid_datetime",
    "datetime_from_date_parsing": "invalid_datetime",
    "time_delta_type": "invalid_duration", "time_delta_parsing": "invalid_duration",
    "url_type": "invalid_url", "url_parsing": "invalid_url", "url_scheme": "invalid_url",
    "extra_forbidden": "unknown_field",
}
_BUILTIN_ERROR_TYPES = frozenset(get_args(ErrorType))
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ModelFormError(IntegrationError):
    """A model field has a type no form field can represent (fails at import, loudly)."""

    key = "model_form_unsupported_type"


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return _unwrap(rest[0])
    return annotation


def _choices(annotation: Any, name: str) -> list[str] | None:
    if get_origin(annotation) is Literal:
        values = list(get_args(annotation))
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        values = [m.value for m in annotation]
    else:
        return None
    if not all(isinstance(v, str) for v in values):
        # A select submits strings; a non-string choice would never validate against the model.
        raise ModelFormError(f"field {name!r}: select choices must be strings")
    return values


def _field_type(name: str, annotation: Any) -> tuple[str, list[str] | None, bool]:
    """(field type, select choices, multiple)"""
    if get_origin(annotation) in (list, tuple, set, frozenset):
        inner = get_args(annotation)
        choices = _choices(_unwrap(inner[0]), name) if inner else None
        if choices is None:
            raise ModelFormError(f"field {name!r}: only lists of Literal/Enum choices become form fields")
        return "select", choices, True
    choices = _choices(annotation, name)
    if choices is not None:
        return "select", choices, False
    for py_type, field_type in _SIMPLE_TYPES.items():
        if annotation is py_type:
            return field_type, None, False
    raise ModelFormError(f"field {name!r}: no form field type for {annotation!r}")


def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, timedelta):
        total = int(value.total_seconds())
        return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    if isinstance(value, (date, time, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_default(v) for v in value]
    return value


def _descriptor(name: str, info: FieldInfo) -> FieldDescriptor:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    field_type, choices, multiple = _field_type(name, _unwrap(info.annotation))
    field_type = str(extra.get("form_type", field_type))
    option_labels = extra.get("option_labels") if isinstance(extra.get("option_labels"), dict) else {}
    bounds: dict[str, Any] = {}
    for meta in info.metadata:
        if isinstance(meta, (annotated_types.Ge, annotated_types.Gt)):
            bounds["min"] = float(meta.ge if isinstance(meta, annotated_types.Ge) else meta.gt)
        elif isinstance(meta, (annotated_types.Le, annotated_types.Lt)):
            bounds["max"] = float(meta.le if isinstance(meta, annotated_types.Le) else meta.lt)
        elif isinstance(meta, annotated_types.MaxLen) and field_type in ("text", "password", "secret"):
            bounds["max_length"] = meta.max_length
    # A model ``pattern`` is not copied: pydantic searches where the form engine full-matches,
    # so a copy could reject what the model accepts. The model checks it (invalid_format).
    default = None
    if field_type not in ("password", "secret") and not info.is_required():
        raw = info.get_default(call_default_factory=True)
        default = None if raw is PydanticUndefined else _json_default(raw)
    return FieldDescriptor(
        name=name,
        label=str(extra.get("label") or info.title or ""),
        type=field_type,  # type: ignore[arg-type]
        required=info.is_required(),
        description=info.description,
        placeholder=extra.get("placeholder"),  # type: ignore[arg-type]
        default=default,
        options=tuple(SelectOption(value=c, label=str(option_labels.get(c, c))) for c in choices or ()),
        multiple=multiple,
        selector=dict(extra.get("selector") or {}),  # type: ignore[arg-type]
        image=extra.get("image"),  # type: ignore[arg-type]
        **bounds,
    )


def fields_from_model(model: type[BaseModel]) -> list[FieldDescriptor]:
    """The form of ``model``, one field per model field, in declaration order."""
    return [_descriptor(name, info) for name, info in model.model_fields.items()]


def _error_key(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind in _ERROR_KEYS:
        return _ERROR_KEYS[kind]
    if kind in ("value_error", "assertion_error"):
        # A validator may raise ValueError("auth_failed"): a bare key is passed through.
        cause = (error.get("ctx") or {}).get("error")
        text = str(cause) if cause is not None else ""
        return text if _KEY.match(text) else "invalid_value"
    if kind in _BUILTIN_ERROR_TYPES:
        return "invalid_value"
    return kind if _KEY.match(kind) else "invalid_value"  # PydanticCustomError("auth_failed", ...)


def validate_with_model(
    model: type[BaseModel], data: Mapping[str, Any]
) -> tuple[BaseModel | None, dict[str, str]]:
    """``(instance, {})`` or ``(None, {field: error_key})``; errors not tied to a field go to ``base``.

    Submitted values never reach the error map (pydantic's ``input`` is dropped), so a
    secret cannot travel back in an error.
    """
    try:
        return model.model_validate(dict(data)), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        names = set(model.model_fields)
        for error in exc.errors(include_url=False, include_input=False):
            loc = error.get("loc") or ()
            name = str(loc[0]) if loc and str(loc[0]) in names else ("base" if not loc else str(loc[0])[:64])
            errors.setdefault(name, _error_key(error))
        return None, errors


def model_data(instance: BaseModel) -> dict[str, Any]:
    """JSON-ready data of a validated model, with secret values in clear (the engine encrypts them)."""
    data = instance.model_dump(mode="json")
    for name in type(instance).model_fields:
        value = getattr(instance, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
        elif isinstance(value, timedelta):
            data[name] = _json_default(value)  # the form's HH:MM:SS, so a reconfigure form accepts it back
    return data


class ModelConfigFlow(SimpleConfigFlow):
    """A one-form flow whose form and validation both come from ``MODEL``."""

    MODEL: ClassVar[type[BaseModel] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("MODEL") is not None and "SCHEMA" not in cls.__dict__:
            cls.SCHEMA = fields_from_model(cls.MODEL)  # type: ignore[arg-type]

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        if user_input is None or self.MODEL is None:
            return await super().async_step_user(user_input)
        instance, errors = validate_with_model(self.MODEL, user_input)
        if instance is None:
            return self.async_show_form(step_id="user", fields=list(self.SCHEMA), errors=errors)
        self.model_instance = instance  # for ``validate`` hooks that prefer the typed model
        return await super().async_step_user(model_data(instance))
