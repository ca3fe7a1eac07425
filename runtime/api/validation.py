"""Input checks every body passes before it reaches Postgres or Temporal.

Postgres ``text`` and ``jsonb`` refuse NUL characters, UTF-8 refuses lone surrogates,
and ``jsonb`` refuses NaN/Infinity (which Python's JSON parser accepts). Caught here,
each is a 422 with a key; caught nowhere, each would be a 500 from deep in a query.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator

from .errors import ApiError

MAX_JSON_BYTES = 64 * 1024
MAX_DEPTH = 16
_SURROGATE = re.compile("[\ud800-\udfff]")
# Ids we hand out are hex or uuid-like; anything else cannot name one of our objects.
ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,200}$"
DOMAIN_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "contains an unpaired surrogate"
    return None


def _clean_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# A str that Postgres and UTF-8 accept.
SafeStr = Annotated[str, AfterValidator(_clean_text)]


def check_json(value: Any, *, key: str, what: str, max_bytes: int = MAX_JSON_BYTES) -> None:
    """Raise ``ApiError(key)`` unless ``value`` can be stored as jsonb and is at most ``max_bytes``."""
    _walk(value, key=key, what=what, depth=0)
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8", "strict"))
    except (TypeError, ValueError, UnicodeEncodeError):
        raise ApiError(key, f"{what} is not storable JSON") from None
    if size > max_bytes:
        raise ApiError(key, f"{what} is {size} bytes; the limit is {max_bytes}", status=413)


def _walk(value: Any, *, key: str, what: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ApiError(key, f"{what} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ApiError(key, f"{what} {problem}")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ApiError(key, f"{what} contains a number JSON cannot carry")
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk(k, key=key, what=what, depth=depth + 1)
            _walk(v, key=key, what=what, depth=depth + 1)
    elif isinstance(value, list):
        for v in value:
            _walk(v, key=key, what=what, depth=depth + 1)
