"""``agentrt entries add DOMAIN``: a config flow driven from the terminal.

The same generic form protocol the console renders (:class:`FlowView`), asked one
field at a time: hidden input for ``password``/``secret`` fields, options listed
for selects, the server's field errors shown before the form is asked again.
Nothing typed into a secret field is echoed, printed or logged.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any, Callable, TextIO

from .integrations.flow_manager import FlowManager
from .integrations.flow_view import FieldView, FlowView
from .principal import Principal

Reader = Callable[[str], str]
SECRET_TYPES = ("password", "secret")


class FlowCancelled(Exception):
    """The user left the wizard (Ctrl-C or end of input)."""


def _ask(read: Reader, prompt: str) -> str:
    try:
        return read(prompt)
    except (EOFError, KeyboardInterrupt):
        raise FlowCancelled() from None


def _show_default(value: Any) -> str:
    return f" [{value}]" if value not in (None, "", []) else ""


def prompt_field(field: FieldView, previous: Any, read: Reader, read_secret: Reader, out: TextIO) -> Any:
    """One field's value (None: leave it out). ``previous`` is what was entered last time round."""
    if field.description:
        out.write(f"  {field.description}\n")
    label = field.label + ("" if field.required else " (optional)")
    if field.type in SECRET_TYPES:
        keep = " (Enter keeps what you typed before)" if previous is not None else ""
        value = _ask(read_secret, f"{label}{keep}: ")
        return value if value else previous
    if field.type == "bool":
        default = previous if previous is not None else field.default
        answer = _ask(read, f"{label} [{'Y/n' if default else 'y/N'}]: ").strip().lower()
        return bool(default) if not answer else answer in ("y", "yes", "true", "1", "on")
    if field.type == "select":
        return _prompt_select(field, previous, read, out, label)
    default = previous if previous is not None else field.default
    answer = _ask(read, f"{label}{_show_default(default)}: ").strip()
    return answer if answer else default


def _prompt_select(field: FieldView, previous: Any, read: Reader, out: TextIO, label: str) -> Any:
    for i, option in enumerate(field.options, 1):
        out.write(f"    {i}) {option.label} ({option.value})\n")
    default = previous if previous is not None else field.default
    hint = "numbers or values, comma-separated" if field.multiple else "number or value"
    while True:
        answer = _ask(read, f"{label} ({hint}){_show_default(default)}: ").strip()
        if not answer:
            return default
        picked = [_option_value(field, part.strip()) for part in answer.split(",")] if field.multiple else [
            _option_value(field, answer)]
        if all(p is not None for p in picked):
            return picked if field.multiple else picked[0]
        out.write(f"  ! choose from 1-{len(field.options)} or one of the values shown\n")


def _option_value(field: FieldView, answer: str) -> str | None:
    if answer.isdigit() and 1 <= int(answer) <= len(field.options):
        return field.options[int(answer) - 1].value
    return answer if any(o.value == answer for o in field.options) else None


def _show_form(view: FlowView, out: TextIO) -> None:
    out.write(f"\n== {view.title or view.domain} ==\n")
    if view.description:
        out.write(f"{view.description}\n")
    for name, error in view.errors.items():
        if name == "base" or name not in {f.name for f in view.fields}:
            out.write(f"! {error.text}\n")


async def run_flow(
    flows: FlowManager,
    domain: str,
    principal: Principal,
    *,
    scope: str = "user",
    group_id: str | None = None,
    lang: str = "en",
    read: Reader = input,
    read_secret: Reader = getpass.getpass,
    out: TextIO = sys.stdout,
) -> tuple[int, str | None]:
    """Drive a flow to its end: (exit status, the created entry's id).

    The status is 0 when an entry was created, 1 when the flow aborted, 130 when cancelled.
    """
    view = await flows.start(domain, principal, scope=scope, lang=lang, group_id=group_id)
    entered: dict[str, Any] = {}
    try:
        while view.type == "form":
            assert view.flow_id is not None
            _show_form(view, out)
            values: dict[str, Any] = {}
            for field in view.fields:
                if field.type == "note":
                    out.write(f"{field.label}\n" + (f"  {field.description}\n" if field.description else ""))
                    continue
                error = view.errors.get(field.name)
                if error:
                    out.write(f"! {field.label}: {error.text}\n")
                previous = entered.get(field.name)
                if error and field.type in SECRET_TYPES:
                    previous = None  # a refused secret must be typed again
                value = prompt_field(field, previous, read, read_secret, out)
                if value is not None and value != "":
                    values[field.name] = value
            entered.update(values)
            out.flush()
            view = await flows.submit(view.flow_id, values, principal, lang=lang)
    except FlowCancelled:
        if view.flow_id:
            await flows.abort(view.flow_id, principal)
        out.write("\ncancelled; nothing was saved\n")
        return 130, None
    finally:
        entered.clear()
    if view.type == "create_entry":
        out.write(f"created entry {view.entry_id} ({view.title})\n")
        return 0, view.entry_id
    out.write(f"not added: {view.reason.text if view.reason else 'the flow aborted'}\n")
    return 1, None
