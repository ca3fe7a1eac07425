"""The key ring: KEK id -> 256-bit key, exactly one active for new encryptions.

Sources, first match wins: ``AGENTRT__SECURITY__KEYS`` (+ ``ACTIVE_KEK``), a key
file (``AGENTRT__SECURITY__KEY_FILE``), and in dev mode only a key generated
into the state dir with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..logging import get_logger
from ..settings import Settings
from .errors import KeyRingError, UnknownKekError

KEY_BYTES = 32
DEV_KEY_FILE = "dev-keyring.json"

log = get_logger(__name__)


@dataclass(frozen=True, repr=False)
class KeyRing:
    active_id: str
    _keys: Mapping[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.active_id not in self._keys:
            raise KeyRingError(f"active kek {self.active_id!r} is not in the key ring ({sorted(self._keys)})")
        for kek_id, key in self._keys.items():
            if len(key) != KEY_BYTES:
                raise KeyRingError(f"kek {kek_id!r} must be {KEY_BYTES} bytes, got {len(key)}")

    def __repr__(self) -> str:
        return f"KeyRing(active_id={self.active_id!r}, kek_ids={sorted(self._keys)})"

    @property
    def kek_ids(self) -> list[str]:
        return sorted(self._keys)

    def active(self) -> tuple[str, bytes]:
        return self.active_id, self._keys[self.active_id]

    def get(self, kek_id: str) -> bytes:
        try:
            return self._keys[kek_id]
        except KeyError:
            raise UnknownKekError(f"kek {kek_id!r} is not in the key ring") from None

    def with_key(self, kek_id: str, key: bytes, *, activate: bool = False) -> "KeyRing":
        keys = {**self._keys, kek_id: key}
        return KeyRing(kek_id if activate else self.active_id, keys)

    @classmethod
    def generate(cls, kek_id: str = "dev-1") -> "KeyRing":
        return cls(kek_id, {kek_id: secrets.token_bytes(KEY_BYTES)})

    @classmethod
    def from_encoded(cls, active_id: str | None, encoded: Mapping[str, str]) -> "KeyRing":
        if not encoded:
            raise KeyRingError("key ring is empty")
        keys = {kek_id: _decode_key(kek_id, value) for kek_id, value in encoded.items()}
        if active_id is None:
            if len(keys) != 1:
                raise KeyRingError("several keks configured: set AGENTRT__SECURITY__ACTIVE_KEK")
            active_id = next(iter(keys))
        return cls(active_id, keys)

    def to_file_json(self) -> str:
        return json.dumps(
            {"active": self.active_id, "keys": {k: base64.b64encode(v).decode() for k, v in self._keys.items()}}
        )


def _decode_key(kek_id: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyRingError(f"kek {kek_id!r} is not valid base64") from None


def _read_key_file(path: Path) -> KeyRing:
    try:
        raw = json.loads(path.read_text())
        return KeyRing.from_encoded(raw.get("active"), raw["keys"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyRingError(f"key file {path} is unreadable or not {{active, keys}} JSON ({type(exc).__name__})") from None


def write_key_file(path: Path, ring: KeyRing) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(ring.to_file_json())
    os.chmod(path, 0o600)


def load_keyring(settings: Settings) -> KeyRing:
    sec = settings.security
    if sec.keys:
        return KeyRing.from_encoded(sec.active_kek, {k: v.get_secret_value() for k, v in sec.keys.items()})
    if sec.key_file is not None:
        ring = _read_key_file(sec.key_file)
        if sec.active_kek and sec.active_kek != ring.active_id:
            ring = KeyRing(sec.active_kek, {k: ring.get(k) for k in ring.kek_ids})
        return ring
    if not settings.is_dev:
        raise KeyRingError(
            "production mode needs a key ring: set AGENTRT__SECURITY__KEYS or AGENTRT__SECURITY__KEY_FILE"
        )
    path = settings.resolved_state_dir() / DEV_KEY_FILE
    if path.exists():
        return _read_key_file(path)
    ring = KeyRing.generate()
    write_key_file(path, ring)
    log.warning("dev_key_generated", path=str(path), kek_id=ring.active_id,
                hint="dev mode only; production refuses to start without a configured key ring")
    return ring
