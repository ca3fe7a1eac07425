"""The one model behaviour every figure uses, for agentrt and for the baseline alike.

A ``FunctionModel`` that calls one tool (the single tool whose name ends in ``echo``) with the
user's text, then answers with what the tool returned. Importable by worker subprocesses as
``function:bench.models:reply``.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel


def echo_text(text: str) -> str:
    """The tool body both systems run."""
    return f"echo: {text}"


def reply(messages: list[Any], info: AgentInfo) -> ModelResponse:
    last = messages[-1].parts[-1]
    if isinstance(last, ToolReturnPart):
        return ModelResponse(parts=[TextPart(f"done: {last.model_response_str()}")])
    if isinstance(last, UserPromptPart):
        tool = next(t.name for t in info.function_tools if t.name.endswith("echo"))
        return ModelResponse(parts=[ToolCallPart(tool, {"text": str(last.content)})])
    return ModelResponse(parts=[TextPart("done")])


def model() -> FunctionModel:
    return FunctionModel(reply, model_name="bench-function")
