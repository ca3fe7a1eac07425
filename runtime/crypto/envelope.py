"""Envelope encryption of one value.

Each record gets a fresh 256-bit DEK. The value is sealed with AES-256-GCM under
the DEK; the DEK is sealed with AES-256-GCM under the active KEK. Both seals take
the record's associated data (e.g. ``config_entry:<id>:api_key``), so an
envelope copied to another record, or a wrapped key swapped between records,
fails to open. Rotation re-seals only the DEK: the ciphertext is untouched.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict

from ..logging import register_secret
from .errors import CiphertextRejectedError, MalformedEnvelopeError, WrappedKeyRejectedError
from .keyring import KEY_BYTES, KeyRing

ALG = "A256GCM+A256GCMKW"
NONCE_BYTES = 12
TAG_BYTES = 16


class Envelope(BaseModel):
    """What is stored. Every field is safe at rest; none is usable without the KEK."""

    model_config = ConfigDict(frozen=True)

    alg: Literal["A256GCM+A256GCMKW"] = ALG
    kek_id: str
    wrapped_dek: str  # base64(wrap_nonce || sealed DEK || tag)
    nonce: str  # base64
    ciphertext: str  # base64(sealed value || tag)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEnvelopeError(f"{what} is not valid base64") from None


def _wrap_aad(aad: str, kek_id: str) -> bytes:
    return f"dek|{kek_id}|{aad}".encode()


def _wrap(kek: bytes, kek_id: str, dek: bytes, aad: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return _b64(nonce + AESGCM(kek).encrypt(nonce, dek, _wrap_aad(aad, kek_id)))


def _unwrap(ring: KeyRing, env: Envelope, aad: str) -> bytes:
    kek = ring.get(env.kek_id)
    raw = _unb64(env.wrapped_dek, "wrapped_dek")
    if len(raw) != NONCE_BYTES + KEY_BYTES + TAG_BYTES:
        raise WrappedKeyRejectedError(f"wrapped DEK has {len(raw)} bytes (truncated or padded)")
    try:
        return AESGCM(kek).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _wrap_aad(aad, env.kek_id))
    except InvalidTag:
        raise WrappedKeyRejectedError(
            "wrapped DEK does not open under its kek for this record: tampered, or bound to another record"
        ) from None


def encrypt(ring: KeyRing, plaintext: str | bytes, aad: str) -> Envelope:
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    kek_id, kek = ring.active()
    dek = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(dek).encrypt(nonce, data, aad.encode())
    return Envelope(kek_id=kek_id, wrapped_dek=_wrap(kek, kek_id, dek, aad), nonce=_b64(nonce), ciphertext=_b64(sealed))


def decrypt_bytes(ring: KeyRing, env: Envelope, aad: str) -> bytes:
    dek = _unwrap(ring, env, aad)
    nonce = _unb64(env.nonce, "nonce")
    if len(nonce) != NONCE_BYTES:
        raise MalformedEnvelopeError(f"nonce has {len(nonce)} bytes, expected {NONCE_BYTES}")
    sealed = _unb64(env.ciphertext, "ciphertext")
    if len(sealed) < TAG_BYTES:
        raise CiphertextRejectedError("ciphertext is shorter than its authentication tag (truncated)")
    try:
        return AESGCM(dek).decrypt(nonce, sealed, aad.encode())
    except InvalidTag:
        raise CiphertextRejectedError(
            "ciphertext does not authenticate: tampered, truncated, or copied from another record"
        ) from None


def decrypt(ring: KeyRing, env: Envelope, aad: str) -> str:
    """Open a text value and register it as a live secret so no log line can carry it."""
    try:
        value = decrypt_bytes(ring, env, aad).decode()
    except UnicodeDecodeError:
        raise MalformedEnvelopeError("decrypted value is not UTF-8 text") from None
    register_secret(value)
    return value


def rewrap(ring: KeyRing, env: Envelope, aad: str) -> Envelope:
    """Re-seal the DEK under the active KEK; the ciphertext and nonce stay as they are."""
    kek_id, kek = ring.active()
    if env.kek_id == kek_id:
        return env
    dek = _unwrap(ring, env, aad)
    return env.model_copy(update={"kek_id": kek_id, "wrapped_dek": _wrap(kek, kek_id, dek, aad)})


def parse_envelope(raw: object) -> Envelope:
    """Validate stored JSON into an :class:`Envelope`; bad shape is a specific error."""
    try:
        return Envelope.model_validate(raw)
    except Exception as exc:  # pydantic ValidationError; never echo the stored value
        raise MalformedEnvelopeError(f"stored envelope has the wrong shape ({type(exc).__name__})") from None
