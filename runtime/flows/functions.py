"""Flow function handlers: resolving them, deriving direct functions' schemas, calling them."""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any, Callable, get_type_hints

from pydantic import create_model

from .model import FlowDefinitionError, FlowFunction, NodeConfig

FLOW_MANAGER_PARAM = "flow_manager"


class FlowManagerHandle:
    """What a handler sees: the flow's state dict (mutable), the session and the current node."""

    def __init__(self, session_id: str, node: str, state: dict[str, Any], principal_sub: str) -> None:
        self.session_id = session_id
        self.current_node = node
        self.state = state
        self.principal_sub = principal_sub


def resolve_handler(handler: Any, name: str) -> Callable[..., Any]:
    if callable(handler):
        return handler
    if isinstance(handler, str) and ":" in handler:
        module, _, attr = handler.partition(":")
        try:
            found = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise FlowDefinitionError(
                f"handler {handler!r} of {name!r} cannot be imported ({type(exc).__name__})", key="flow_handler_missing"
            ) from None
        if callable(found):
            return found
    raise FlowDefinitionError(f"handler of {name!r} must be a callable or 'module:attribute'", key="flow_handler_missing")


def _doc(func: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    text = inspect.getdoc(func) or ""
    if not text:
        return "", {}
    try:
        from griffe import Docstring, DocstringSectionKind

        # griffe warns about parameters without annotations in the docstring; the signature has them.
        logging.getLogger("griffe").setLevel(logging.ERROR)
        sections = Docstring(text, lineno=1).parse("google")
    except Exception:  # a docstring griffe cannot parse still gives its first paragraph
        return text.split("\n\n")[0].strip(), {}
    summary, params = "", {}
    for section in sections:
        if section.kind is DocstringSectionKind.text and not summary:
            summary = str(section.value).strip()
        elif section.kind is DocstringSectionKind.parameters:
            params = {p.name: p.description for p in section.value}
    return summary, params


def direct_function(
    func: Callable[..., Any], *, timeout_secs: float | None = None, cancel_on_interruption: bool = False,
    next_node: str | None = None,
) -> FlowFunction:
    """A flow function whose schema comes from ``func(flow_manager, **params)``'s signature and docstring."""
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    if not params or params[0].name != FLOW_MANAGER_PARAM:
        raise FlowDefinitionError(
            f"direct function {func.__name__!r} must take {FLOW_MANAGER_PARAM!r} as its first parameter",
            key="flow_function_invalid",
        )
    hints = get_type_hints(func)
    summary, descriptions = _doc(func)
    fields: dict[str, Any] = {}
    for p in params[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise FlowDefinitionError(f"direct function {func.__name__!r} cannot take *args/**kwargs",
                                      key="flow_function_invalid")
        from pydantic import Field

        default = ... if p.default is p.empty else p.default
        fields[p.name] = (hints.get(p.name, Any), Field(default, description=descriptions.get(p.name)))
    schema = create_model(f"{func.__name__}_args", **fields).model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return FlowFunction(
        name=func.__name__, description=summary, properties=schema.get("properties", {}),
        required=list(schema.get("required", [])), handler=func, next_node=next_node, timeout_secs=timeout_secs,
        cancel_on_interruption=cancel_on_interruption, direct=True,
    )


def flows_direct_function(*, timeout_secs: float | None = None, cancel_on_interruption: bool = False):
    """Decorator recording a direct function's call options (read by :func:`direct_function`)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func._flows_timeout_secs = timeout_secs  # type: ignore[attr-defined]
        func._flows_cancel_on_interruption = cancel_on_interruption  # type: ignore[attr-defined]
        return func

    return decorate


def as_flow_function(item: Any) -> FlowFunction:
    """Accept a FlowFunction, a dict, or a plain async callable (a direct function)."""
    if isinstance(item, FlowFunction):
        return item
    if isinstance(item, dict):
        return FlowFunction.model_validate(item)
    if callable(item):
        return direct_function(item, timeout_secs=getattr(item, "_flows_timeout_secs", None),
                               cancel_on_interruption=getattr(item, "_flows_cancel_on_interruption", False))
    raise FlowDefinitionError(f"not a flow function: {type(item).__name__}", key="flow_function_invalid")


async def call_handler(fn: FlowFunction, args: dict[str, Any], manager: FlowManagerHandle) -> tuple[Any, str | None]:
    """Run a handler in any of the supported shapes; returns ``(result, next_node)``."""
    handler = fn.resolved_handler()
    if handler is None:
        return None, fn.next_node
    if fn.direct:
        outcome = handler(flow_manager=manager, **args)
    else:
        arity = len(inspect.signature(handler).parameters)
        outcome = handler() if arity == 0 else handler(args) if arity == 1 else handler(args, manager)
    if inspect.isawaitable(outcome):
        outcome = await outcome
    if isinstance(outcome, tuple) and len(outcome) == 2 and (outcome[1] is None or isinstance(outcome[1], (str, NodeConfig))):
        result, target = outcome
        # A node config (the reference's style) is accepted by name: the workflow stores names only.
        next_node = target.name if isinstance(target, NodeConfig) else target
    else:
        result, next_node = outcome, None
    return result, next_node or fn.next_node
