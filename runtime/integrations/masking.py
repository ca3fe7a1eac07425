"""Masking of secret fields on read, and the masked round trip on write.

A client reads an entry masked, edits what it wants and sends the whole form back.
Unchanged secret fields come back as their mask; the server must then keep the
stored value rather than store the mask. So a submitted value equal to the
field's current mask means "keep", anything else is a new value.

``password`` fields may show their last four characters when the value is long
enough that four characters say little about it; ``secret`` fields are
write-only and always read back as the bare mask.
"""

from __future__ import annotations

from typing import Literal

MASK = "••••"
# Below this length, four visible characters would be too large a share of the value.
MIN_LENGTH_FOR_HINT = 12
HINT_CHARS = 4

SecretKind = Literal["password", "secret"]


def mask_value(kind: str, value: str | None) -> str:
    """The masked form of one stored secret. Unknown kinds are treated as write-only."""
    if kind == "password" and value is not None and len(value) >= MIN_LENGTH_FOR_HINT:
        return MASK + value[-HINT_CHARS:]
    return MASK


def looks_masked(value: object) -> bool:
    """Could ``value`` be a mask we produced? (Then it must equal the current mask to mean "keep".)"""
    return (
        isinstance(value, str)
        and value.startswith(MASK)
        and len(value) <= len(MASK) + HINT_CHARS
    )


def keeps_stored(submitted: object, current_mask: str) -> bool:
    """Does a submitted value mean "keep the stored secret"? The bare mask always does."""
    return isinstance(submitted, str) and (submitted == current_mask or submitted == MASK)
