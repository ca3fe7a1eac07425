"""The model that serves when no provider is configured, and says so.

It never pretends to think: ``/tool NAME {json}`` calls a tool, ``/tools`` lists
them, anything else is echoed with a note that no model provider is configured.
Tool results are reported back verbatim (shortened).
"""

from __future__ import annotations

import json

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from .tool_parts import error_text, is_error_part, is_tool_result

PREFIX = "(offline model, no provider configured)"
PREVIEW_CHARS = 1_500


def _resolve(name: str, available: list[str]) -> str | None:
    if name in available:
        return name
    suffixed = [t for t in available if t.endswith("_" + name)]
    return suffixed[0] if len(suffixed) == 1 else None


def _reply_to_user(text: str, info: AgentInfo) -> ModelResponse:
    available = sorted(t.name for t in info.function_tools)
    stripped = text.strip()
    if stripped == "/tools":
        listing = ", ".join(available) if available else "none"
        return ModelResponse(parts=[TextPart(f"{PREFIX} Tools available to me: {listing}.")])
    if stripped.startswith("/tool "):
        rest = stripped[len("/tool ") :].strip()
        name, _, raw_args = rest.partition(" ")
        resolved = _resolve(name, available)
        if resolved is None:
            return ModelResponse(parts=[TextPart(f"{PREFIX} No tool named {name!r}. Available: {', '.join(available) or 'none'}.")])
        try:
            args = json.loads(raw_args) if raw_args.strip() else {}
        except json.JSONDecodeError as exc:
            return ModelResponse(parts=[TextPart(f"{PREFIX} Arguments for {resolved} are not JSON: {exc.msg}.")])
        if not isinstance(args, dict):
            return ModelResponse(parts=[TextPart(f"{PREFIX} Arguments for {resolved} must be a JSON object.")])
        return ModelResponse(parts=[ToolCallPart(resolved, args)])
    return ModelResponse(
        parts=[TextPart(f"{PREFIX} You said: {text}\nTry `/tools`, or `/tool NAME {{\"arg\": \"value\"}}`.")]
    )


def offline_reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    last = messages[-1]
    if not isinstance(last, ModelRequest):
        return ModelResponse(parts=[TextPart(PREFIX)])
    results = [p for p in last.parts if is_tool_result(p)]
    if results:
        lines = []
        for part in results:
            failed = is_error_part(part)
            content = error_text(part) if failed else part.model_response_str()
            verb = "failed" if failed else "returned"
            lines.append(f"{part.tool_name} {verb}: {content[:PREVIEW_CHARS]}")
        return ModelResponse(parts=[TextPart(f"{PREFIX} " + "\n".join(lines))])
    prompts = [p for p in last.parts if isinstance(p, UserPromptPart)]
    text = prompts[-1].content if prompts and isinstance(prompts[-1].content, str) else ""
    return _reply_to_user(text, info)


class OfflineModel(FunctionModel):
    def __init__(self) -> None:
        super().__init__(offline_reply, model_name="offline")
