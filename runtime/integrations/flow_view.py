"""The client-facing form protocol: what a flow step looks like once labels are resolved.

A :class:`FlowView` is all a UI needs to render a step generically, and nothing it
must not see: ``password``/``secret`` fields never carry a default or value back.
Error keys are resolved to text, and the key is kept so clients can match on it.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import BaseModel, Field

from .fields import FieldDescriptor
from .translations import Translator

FlowViewType = Literal["form", "create_entry", "abort"]


class ResolvedText(BaseModel):
    key: str
    text: str


class OptionView(BaseModel):
    value: str
    label: str


class FieldView(BaseModel):
    name: str
    type: str
    label: str
    required: bool = False
    description: str | None = None
    placeholder: str | None = None
    default: Any = None
    options: list[OptionView] = Field(default_factory=list)
    multiple: bool = False
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    image: str | None = None
    selector: dict[str, Any] = Field(default_factory=dict)


class FlowView(BaseModel):
    flow_id: str | None = None
    domain: str
    type: FlowViewType
    step_id: str | None = None
    # A form's step title; on create_entry, the entry's title.
    title: str | None = None
    description: str | None = None
    fields: list[FieldView] = Field(default_factory=list)
    errors: dict[str, ResolvedText] = Field(default_factory=dict)
    entry_id: str | None = None
    reason: ResolvedText | None = None


def _resolve(tr: Translator, given: str | None, conventional_key: str) -> str | None:
    """A field text: the author's key (or literal text) if given, else the conventional key, else None."""
    if given:
        return tr.get(given) or given
    return tr.get(conventional_key)


def field_view(tr: Translator, field: FieldDescriptor, prefill: Mapping[str, Any] | None = None) -> FieldView:
    default = None
    if not field.is_secret:  # a secret never travels back to a client, not even as a default
        # An entry's current value (reconfigure) beats the field's generic default.
        default = prefill[field.name] if prefill and field.name in prefill else field.default
    return FieldView(
        name=field.name,
        type=field.type,
        label=_resolve(tr, field.label, f"field.{field.name}.label") or field.name,
        required=field.required,
        description=_resolve(tr, field.description, f"field.{field.name}.description"),
        placeholder=_resolve(tr, field.placeholder, f"field.{field.name}.placeholder"),
        default=default,
        options=[OptionView(value=o.value, label=tr.get(o.label) or o.label) for o in field.options],
        multiple=field.multiple,
        min=field.min,
        max=field.max,
        max_length=field.max_length if field.type in ("text", "password", "secret") else None,
        image=field.image,
        selector=dict(field.selector),
    )


def form_view(
    tr: Translator,
    *,
    domain: str,
    flow_id: str | None,
    step_id: str,
    fields: list[FieldDescriptor],
    errors: Mapping[str, str] | None = None,
    placeholders: Mapping[str, Any] | None = None,
    prefill: Mapping[str, Any] | None = None,
) -> FlowView:
    description = tr.get(f"step.{step_id}.description")
    return FlowView(
        flow_id=flow_id,
        domain=domain,
        type="form",
        step_id=step_id,
        title=tr.get(f"step.{step_id}.title"),
        description=tr.text(description, placeholders) if description else None,
        fields=[field_view(tr, f, prefill) for f in fields],
        errors={name: ResolvedText(key=key, text=tr.error(key, placeholders)) for name, key in (errors or {}).items()},
    )


def create_view(*, domain: str, flow_id: str | None, entry_id: str, title: str) -> FlowView:
    return FlowView(flow_id=flow_id, domain=domain, type="create_entry", entry_id=entry_id, title=title)


def abort_view(tr: Translator, *, domain: str, flow_id: str | None, reason: str) -> FlowView:
    return FlowView(
        flow_id=flow_id, domain=domain, type="abort", reason=ResolvedText(key=reason, text=tr.abort_reason(reason))
    )
