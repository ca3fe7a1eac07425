"""Crypto errors. Messages name records and key ids, never key material or plaintext."""

from __future__ import annotations

from ..errors import AgentrtError


class CryptoError(AgentrtError):
    key = "crypto_error"


class KeyRingError(CryptoError):
    key = "keyring_invalid"


class DecryptionError(CryptoError):
    key = "decryption_failed"


class UnknownKekError(DecryptionError):
    key = "kek_unknown"


class MalformedEnvelopeError(DecryptionError):
    key = "envelope_malformed"


class WrappedKeyRejectedError(DecryptionError):
    """The wrapped DEK did not authenticate: tampered, truncated, or bound to another record."""

    key = "wrapped_key_rejected"


class CiphertextRejectedError(DecryptionError):
    """The ciphertext did not authenticate under its DEK: tampered, truncated or swapped in."""

    key = "ciphertext_rejected"
