"""The message parts a tool call ends in, as stored in transcripts and shown to the model.

A call the model should make again (bad arguments, ``ModelRetry``, an unavailable tool, a
failure) is a ``ToolReturnPart`` with ``outcome='retried'``: pydantic-ai's replacement for the
deprecated ``RetryPromptPart``. Transcripts written before the change still hold
``RetryPromptPart``s; readers accept both through :func:`is_error_part`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic_ai.messages import ERROR_OUTCOMES, RetryInfo, RetryPromptPart, ToolRetryCause, ToolReturnPart
from pydantic_core import to_jsonable_python

from ..logging import live_secrets
from .limits import MAX_TOOL_RESULT_CHARS, truncate


@dataclass(frozen=True)
class RenderedResult:
    """A tool's (or flow function's) return value as the model and the transcript get it."""

    content: Any  # the JSON value, or text when it was cut or had a secret redacted
    text: str  # the whole rendering, before the cap
    capped: str  # ``text`` cut to MAX_TOOL_RESULT_CHARS
    truncated: bool
    redacted: bool  # a live secret was in it (a tool, or the service behind it, echoed one)


def render_result(value: Any) -> RenderedResult:
    """JSON-able, any live (decrypted) secret redacted — it must reach neither the model, nor the
    transcript, nor a preview in Temporal history — and capped."""
    jsonable = to_jsonable_python(value, fallback=str)
    text = jsonable if isinstance(jsonable, str) else json.dumps(jsonable, ensure_ascii=False)
    scrubbed = live_secrets.scrub(text)
    redacted = scrubbed != text
    if redacted:
        text = jsonable = scrubbed
    capped, cut = truncate(text, MAX_TOOL_RESULT_CHARS)
    return RenderedResult(content=capped if cut or isinstance(jsonable, str) else jsonable, text=text, capped=capped,
                          truncated=cut, redacted=redacted)


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
