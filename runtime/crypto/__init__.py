"""Envelope encryption: a key ring of KEKs wraps one AES-256-GCM DEK per record."""

from .envelope import Envelope, decrypt, encrypt, rewrap
from .errors import (
    CiphertextRejectedError,
    CryptoError,
    DecryptionError,
    KeyRingError,
    MalformedEnvelopeError,
    UnknownKekError,
    WrappedKeyRejectedError,
)
from .keyring import KeyRing, load_keyring

__all__ = [
    "CiphertextRejectedError",
    "CryptoError",
    "DecryptionError",
    "Envelope",
    "KeyRing",
    "KeyRingError",
    "MalformedEnvelopeError",
    "UnknownKekError",
    "WrappedKeyRejectedError",
    "decrypt",
    "encrypt",
    "load_keyring",
    "rewrap",
]
