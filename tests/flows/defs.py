"""Flows used by the flow tests (importable, so YAML handler paths and worker processes find them)."""

from __future__ import annotations

import asyncio
from typing import Any

from runtime.flows import FlowManagerHandle, build_flow, flows_direct_function

ENTERED: list[str] = []


async def start_booking(args: dict[str, Any], flow_manager: FlowManagerHandle) -> tuple[Any, str]:
    flow_manager.state["source"] = "chat"
    return None, "collect"


async def record_details(flow_manager: FlowManagerHandle, name: str, age: int) -> tuple[Any, str | None]:
    """Record the caller's details.

    Args:
        name: The caller's first name.
        age: The caller's age in years.
    """
    if age < 0 or age > 130:
        return {"error": "age must be between 0 and 130"}, None
    flow_manager.state.update(name=name, age=age)
    return "recorded", "confirm"


async def help_desk() -> str:
    return "call 555-0100"


@flows_direct_function(timeout_secs=0.5)
async def slow_lookup(flow_manager: FlowManagerHandle, query: str) -> tuple[Any, None]:
    """Look something up, slowly."""
    await asyncio.sleep(5)
    return "found", None


async def note_entry(action: dict[str, Any], flow_manager: FlowManagerHandle) -> None:
    flow_manager.state.setdefault("entered", []).append(flow_manager.current_node)


INTAKE = {
    "name": "intake",
    "initial_node": "greet",
    "nodes": [
        {
            "name": "greet",
            "role_message": "You are the clinic's receptionist.",
            "task_messages": [{"role": "developer", "content": "Greet the caller and offer to book."}],
            "functions": [{"name": "start_booking", "description": "Begin a booking.",
                           "handler": start_booking}],
            "pre_actions": [{"type": "function", "handler": "tests.flows.defs:note_entry"}],
        },
        {
            "name": "collect",
            "task_messages": [{"role": "developer", "content": "Ask for name and age."}],
            "functions": [record_details, slow_lookup],
            "context_strategy": {"strategy": "reset"},
        },
        {
            "name": "confirm",
            "task_messages": [{"role": "developer", "content": "Confirm the booking and say goodbye."}],
            "functions": [],
            "post_actions": [{"type": "end_conversation"}],
        },
    ],
    "global_functions": [{"name": "help_desk", "description": "Phone number of a human.", "handler": help_desk}],
}


def summary_flow(strategy: str = "reset_with_summary") -> dict[str, Any]:
    return {
        "name": f"summary_{strategy}",
        "initial_node": "first",
        "nodes": [
            {"name": "first", "functions": [{"name": "next_step", "next_node": "second"}]},
            {"name": "second", "task_messages": [{"role": "developer", "content": "Second step."}],
             "context_strategy": {"strategy": strategy, "summary_prompt": "Summarise the conversation."}},
        ],
    }


QUIET = {
    "name": "quiet",
    "initial_node": "first",
    "nodes": [
        {"name": "first", "functions": [{"name": "next_step", "next_node": "waiting"}]},
        # Entered from a function: the turn ends there, with no model answer.
        {"name": "waiting", "respond_immediately": False,
         "task_messages": [{"role": "developer", "content": "Wait for the caller."}]},
    ],
}


def all_flows():
    return [build_flow(INTAKE), build_flow(summary_flow()), build_flow(QUIET)]
