"""Conversation flows: durable node graphs with per-node functions and transitions."""

from .actions import register_action
from .functions import FlowManagerHandle, direct_function, flows_direct_function
from .model import (
    ActionConfig,
    ContextStrategy,
    ContextStrategyConfig,
    FlowDefinition,
    FlowDefinitionError,
    FlowFunction,
    NodeConfig,
    TaskMessage,
)
from .registry import FlowRegistry, build_flow, load_flow_file, register_flow

__all__ = [
    "ActionConfig",
    "ContextStrategy",
    "ContextStrategyConfig",
    "FlowDefinition",
    "FlowDefinitionError",
    "FlowFunction",
    "FlowManagerHandle",
    "FlowRegistry",
    "NodeConfig",
    "TaskMessage",
    "build_flow",
    "direct_function",
    "flows_direct_function",
    "load_flow_file",
    "register_action",
    "register_flow",
]
