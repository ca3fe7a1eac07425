"""Error base: every agentrt error carries a stable machine key and a human message.

Messages never contain secret values; callers pass identifiers, not plaintext.
"""

from __future__ import annotations


class AgentrtError(Exception):
    """Base class. ``key`` is stable across releases; match on it, not on the message."""

    key: str = "agentrt_error"

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        if key is not None:
            self.key = key

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.key

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class SettingsError(AgentrtError):
    key = "settings_invalid"
