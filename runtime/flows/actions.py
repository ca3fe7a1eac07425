"""Node actions: run before the model (pre) and after its response (post).

Built in: ``end_conversation`` (the session ends after this turn) and
``function`` (call ``handler(action, flow_manager)``). Register more with
:func:`register_action`; handlers receive the action's parameters and the flow
manager, and may change ``flow_manager.state``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .functions import FlowManagerHandle, resolve_handler
from .model import ActionConfig, FlowDefinitionError

ActionHandler = Callable[[dict[str, Any], FlowManagerHandle], Awaitable[Any] | Any]


@dataclass
class ActionOutcome:
    end_session: bool = False
    notes: list[str] = field(default_factory=list)


_REGISTRY: dict[str, ActionHandler] = {}


def register_action(name: str, handler: ActionHandler) -> None:
    if name in ("end_conversation", "function"):
        raise FlowDefinitionError(f"{name!r} is a built-in action", key="flow_action_reserved")
    _REGISTRY[name] = handler


async def run_actions(actions: list[ActionConfig], manager: FlowManagerHandle) -> ActionOutcome:
    outcome = ActionOutcome()
    for action in actions:
        params = {"type": action.type, **action.params()}
        if action.type == "end_conversation":
            outcome.end_session = True
            continue
        if action.type == "function":
            handler: Any = resolve_handler(action.handler, f"action {action.type}")
        else:
            handler = _REGISTRY.get(action.type)
            if handler is None:
                raise FlowDefinitionError(f"unknown action type {action.type!r}", key="flow_action_unknown")
        result = handler(params, manager)
        if inspect.isawaitable(result):
            result = await result
        outcome.notes.append(action.type)
    return outcome
