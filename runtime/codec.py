"""Encrypt every Temporal payload with the key ring, so Temporal's database holds no message text,
tool arguments or results in the clear.

Each payload is serialised whole (its own metadata included), sealed with
AES-256-GCM under a payload key derived (HKDF-SHA256) from a KEK of the ring,
and stored with ``encoding: binary/encrypted`` and the KEK id in metadata. The
associated data binds the ciphertext to that encoding and key id. Payloads
sealed under an older KEK keep decoding while that KEK stays in the ring.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from .crypto import KeyRing
from .crypto.errors import CiphertextRejectedError, MalformedEnvelopeError

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
_INFO = b"agentrt temporal payload v1"


@lru_cache(maxsize=64)
def _derive(kek: bytes) -> bytes:
    # A separate key per purpose: the KEK itself only ever wraps DEKs.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(kek)


def _aad(kek_id: str) -> bytes:
    return ENCODING + b"|" + kek_id.encode()


class EncryptionCodec(PayloadCodec):
    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        kek_id, kek = self._ring.active()
        key = AESGCM(_derive(kek))
        out = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = key.encrypt(nonce, payload.SerializeToString(), _aad(kek_id))
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: kek_id.encode()}, data=nonce + sealed))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)  # written before encryption was switched on
                continue
            raw_id = payload.metadata.get(KEY_ID)
            if not raw_id:
                raise MalformedEnvelopeError("encrypted payload without a key id")
            kek_id = raw_id.decode()
            key = AESGCM(_derive(self._ring.get(kek_id)))
            data = payload.data
            if len(data) < NONCE_BYTES + 16:
                raise CiphertextRejectedError("encrypted payload is truncated")
            try:
                plain = key.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _aad(kek_id))
            except InvalidTag:
                raise CiphertextRejectedError("encrypted payload does not authenticate") from None
            out.append(Payload.FromString(plain))
        return out
