"""Conversation flow definitions: nodes, functions, actions, context strategies.

A flow is a graph of nodes. Each node gives the model a role, task messages and
a set of functions; a function's handler returns a result, or ``(result,
next_node)`` to move the conversation on. Flows are defined in Python or loaded
from YAML/JSON, and validated when they are defined — an unknown next node, a
duplicate function name or a missing handler is an error then, not mid-session.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from ..errors import AgentrtError

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"


class FlowDefinitionError(AgentrtError):
    key = "flow_definition_invalid"


class ContextStrategy(str, Enum):
    APPEND = "append"
    RESET = "reset"
    RESET_WITH_SUMMARY = "reset_with_summary"


class ContextStrategyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: ContextStrategy = ContextStrategy.APPEND
    summary_prompt: str | None = None

    @model_validator(mode="after")
    def _summary_needs_prompt(self) -> "ContextStrategyConfig":
        if self.strategy is ContextStrategy.RESET_WITH_SUMMARY and not self.summary_prompt:
            raise ValueError("summary_prompt is required with reset_with_summary")
        return self


class ActionConfig(BaseModel):
    """``type`` names a registered action (built in: ``end_conversation``, ``function``); extra keys
    are the action's parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(min_length=1, max_length=64)
    handler: str | None = Field(default=None, description="for type=function: 'package.module:callable'")

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class TaskMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str = "developer"
    content: str


class FlowFunction(BaseModel):
    """A function the model may call in a node. ``handler`` is a callable or an import path;
    ``next_node`` is a static transition taken after the handler when it names none itself."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    properties: dict[str, Any] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)
    handler: Any = None
    next_node: str | None = None
    timeout_secs: float | None = Field(default=None, gt=0, le=3600)
    cancel_on_interruption: bool = False
    direct: bool = False  # schema derived from the handler's signature and docstring
    _resolved: Callable[..., Any] | None = PrivateAttr(default=None)

    def parameters_json_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": dict(self.properties), "required": list(self.required),
                "additionalProperties": False}

    def resolved_handler(self) -> Callable[..., Any] | None:
        if self._resolved is None and self.handler is not None:
            from .functions import resolve_handler

            self._resolved = resolve_handler(self.handler, self.name)
        return self._resolved


class NodeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    role_message: str | None = None
    task_messages: list[TaskMessage] = Field(default_factory=list)
    functions: list[FlowFunction] = Field(default_factory=list)
    pre_actions: list[ActionConfig] = Field(default_factory=list)
    post_actions: list[ActionConfig] = Field(default_factory=list)
    context_strategy: ContextStrategyConfig = Field(default_factory=ContextStrategyConfig)
    respond_immediately: bool = True


class FlowDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    initial_node: str
    nodes: list[NodeConfig] = Field(min_length=1)
    global_functions: list[FlowFunction] = Field(default_factory=list)
    description: str = ""

    @model_validator(mode="after")
    def _graph(self) -> "FlowDefinition":
        names = [n.name for n in self.nodes]
        problems: list[str] = []
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"duplicate node names {duplicates}")
        if self.initial_node not in names:
            problems.append(f"initial_node {self.initial_node!r} is not a node")
        global_names = [f.name for f in self.global_functions]
        for node in self.nodes:
            fn_names = [f.name for f in node.functions] + global_names
            dup = sorted({n for n in fn_names if fn_names.count(n) > 1})
            if dup:
                problems.append(f"node {node.name!r}: duplicate function names {dup}")
        for owner, fn in self._all_functions():
            if fn.next_node is not None and fn.next_node not in names:
                problems.append(f"{owner}: function {fn.name!r} goes to unknown next node {fn.next_node!r}")
            if fn.handler is None and fn.next_node is None:
                problems.append(f"{owner}: function {fn.name!r} has neither a handler nor a next_node")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _all_functions(self) -> list[tuple[str, FlowFunction]]:
        return [(f"node {n.name!r}", f) for n in self.nodes for f in n.functions] + [
            ("global", f) for f in self.global_functions
        ]

    def node(self, name: str) -> NodeConfig:
        for node in self.nodes:
            if node.name == name:
                return node
        raise FlowDefinitionError(f"flow {self.name!r} has no node {name!r}", key="flow_node_unknown")

    def functions_of(self, node: str) -> dict[str, FlowFunction]:
        return {f.name: f for f in [*self.node(node).functions, *self.global_functions]}

    def check_handlers(self) -> None:
        """Import every handler now, so a missing one fails at load, not in a session."""
        problems = []
        for owner, fn in self._all_functions():
            try:
                fn.resolved_handler()
            except FlowDefinitionError as exc:
                problems.append(f"{owner}: {exc.message}")
        for node in self.nodes:
            for action in [*node.pre_actions, *node.post_actions]:
                if action.type == "function" and not action.handler:
                    problems.append(f"node {node.name!r}: function action without a handler")
        if problems:
            raise FlowDefinitionError(f"flow {self.name!r}: " + "; ".join(problems), key="flow_handler_missing")
