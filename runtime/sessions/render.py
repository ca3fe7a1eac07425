"""Turn pydantic-ai messages into short readable lines for transcripts and UIs."""

from __future__ import annotations

import json
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from .limits import truncate
from .tool_parts import is_error_part
from .types import TranscriptLine

LINE_CHARS = 4_000


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def message_lines(turn: int, message: ModelMessage) -> list[TranscriptLine]:
    lines: list[TranscriptLine] = []
    for part in message.parts:
        if isinstance(part, UserPromptPart):
            lines.append(TranscriptLine(turn=turn, role="user", text=truncate(_text(part.content), LINE_CHARS)[0]))
        elif isinstance(part, TextPart) and isinstance(message, ModelResponse):
            lines.append(TranscriptLine(turn=turn, role="assistant", text=truncate(part.content, LINE_CHARS)[0]))
        elif isinstance(part, ToolCallPart):
            lines.append(
                TranscriptLine(turn=turn, role="assistant",
                               text=truncate(f"[calls {part.tool_name}({part.args_as_json_str()})]", LINE_CHARS)[0])
            )
        elif is_error_part(part):
            text = f"[{part.tool_name or 'model'} error] {_text(part.content)}"
            lines.append(TranscriptLine(turn=turn, role="tool", text=truncate(text, LINE_CHARS)[0]))
        elif isinstance(part, ToolReturnPart):
            text = f"[{part.tool_name} returned] {_text(part.content)}"
            lines.append(TranscriptLine(turn=turn, role="tool", text=truncate(text, LINE_CHARS)[0]))
    return lines
