"""Size caps for everything that crosses Temporal or reaches a model."""

from __future__ import annotations

MAX_MESSAGE_CHARS = 32_000
MAX_FINAL_TEXT_CHARS = 32_000
MAX_TOOL_RESULT_CHARS = 16_000
MAX_TOOL_CALLS_PER_STEP = 16
MAX_STEPS_PER_TURN = 25
MAX_REASON_CHARS = 1_000
TRANSCRIPT_TAIL = 20


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """Cut ``text`` to ``limit`` characters with a marker that says how much went missing."""
    if len(text) <= limit:
        return text, False
    omitted = len(text) - limit
    marker = f"\n…[truncated: {omitted} characters omitted]"
    return text[: max(0, limit - len(marker))] + marker, True
