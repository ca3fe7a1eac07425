"""The message parts a tool call ends in, as stored in transcripts and shown to the model.

A call the model should make again (bad arguments, ``ModelRetry``, an unavailable tool, a
failure) is a ``ToolReturnPart`` with ``outcome='retried'``: pydantic-ai's replacement for the
deprecated ``RetryPromptPart``. Transcripts written before the change still hold
``RetryPromptPart``s; readers accept both through :func:`is_error_part`.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.messages import ERROR_OUTCOMES, RetryInfo, RetryPromptPart, ToolRetryCause, ToolReturnPart


def retried(content: Any, *, tool_name: str, tool_call_id: str, cause: ToolRetryCause) -> ToolReturnPart:
    return ToolReturnPart(tool_name=tool_name, content=content, tool_call_id=tool_call_id, outcome="retried",
                          retry=RetryInfo(cause=cause))


def is_tool_result(part: Any) -> bool:
    return isinstance(part, (ToolReturnPart, RetryPromptPart))


def is_error_part(part: Any) -> bool:
    return isinstance(part, RetryPromptPart) or (isinstance(part, ToolReturnPart) and part.outcome in ERROR_OUTCOMES)


def error_text(part: Any) -> str:
    """An error part's own text (no ``{"error": ...}`` wrapper, no retry advice)."""
    content = part.content
    return content if isinstance(content, str) else str(content)
