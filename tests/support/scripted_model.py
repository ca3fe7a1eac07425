"""A scripted model importable by worker subprocesses (``function:tests.support.scripted_model:reply``).

``/count LABEL`` → calls ``probe_count``; after a tool result it waits AGENTRT_TEST_MODEL_DELAY
seconds (a window to kill the worker in) and answers. Every call's start and end is appended
to AGENTRT_TEST_MODEL_LOG, so a test can count which requests completed.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo


def _log(line: str) -> None:
    path = os.environ.get("AGENTRT_TEST_MODEL_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(line + "\n")


async def reply(messages: list[Any], info: AgentInfo) -> ModelResponse:
    key = f"call-{len(messages)}"
    _log(f"start {key}")
    last = messages[-1].parts[-1]
    if isinstance(last, UserPromptPart) and str(last.content).startswith("/count "):
        tool = next(t.name for t in info.function_tools if t.name.endswith("probe_count"))
        response = ModelResponse(parts=[ToolCallPart(tool, {"label": str(last.content)[7:]})])
    elif isinstance(last, ToolReturnPart):
        await asyncio.sleep(float(os.environ.get("AGENTRT_TEST_MODEL_DELAY", "0")))
        response = ModelResponse(parts=[TextPart(f"counted: {last.model_response_str()}")])
    else:
        response = ModelResponse(parts=[TextPart(f"said: {last.content}")])
    _log(f"end {key}")
    return response
