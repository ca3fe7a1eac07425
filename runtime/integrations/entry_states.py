"""Config entry states, in Home Assistant's vocabulary; each knows whether it is recoverable."""

from __future__ import annotations

from enum import Enum


class ConfigEntryState(str, Enum):
    """``recoverable`` says whether retrying setup (or unloading) can get the entry back to work
    without an operator changing something first."""

    recoverable: bool

    NOT_LOADED = ("not_loaded", True)
    LOADED = ("loaded", True)
    SETUP_ERROR = ("setup_error", True)
    SETUP_RETRY = ("setup_retry", True)
    SETUP_IN_PROGRESS = ("setup_in_progress", False)
    # The stored config could not be brought to the manifest's schema version: needs a fix first.
    MIGRATION_ERROR = ("migration_error", False)
    FAILED_UNLOAD = ("failed_unload", False)
    # The integration's code vanished; the entry survives and recovers when it comes back.
    NOT_FOUND = ("not_found", True)

    def __new__(cls, value: str, recoverable: bool) -> "ConfigEntryState":
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.recoverable = recoverable
        return obj

    def __str__(self) -> str:
        return self.value
