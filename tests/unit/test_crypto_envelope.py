from __future__ import annotations

import base64

import pytest

from runtime.crypto import (
    CiphertextRejectedError,
    KeyRing,
    MalformedEnvelopeError,
    UnknownKekError,
    WrappedKeyRejectedError,
    decrypt,
    encrypt,
    rewrap,
)


def _flip(b64: str, index: int = -1) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate("k1")


def test_round_trip(ring):
    env = encrypt(ring, "s3cr3t-välue", "config_entry:e1:api_key")
    assert env.kek_id == "k1" and env.alg == "A256GCM+A256GCMKW"
    assert "s3cr3t" not in env.model_dump_json()
    assert decrypt(ring, env, "config_entry:e1:api_key") == "s3cr3t-välue"


def test_each_record_gets_its_own_dek_and_nonce(ring):
    a, b = encrypt(ring, "same", "x:1:f"), encrypt(ring, "same", "x:1:f")
    assert a.ciphertext != b.ciphertext and a.wrapped_dek != b.wrapped_dek and a.nonce != b.nonce


def test_wrong_associated_data_is_rejected(ring):
    env = encrypt(ring, "value", "config_entry:e1:api_key")
    with pytest.raises(WrappedKeyRejectedError) as err:
        decrypt(ring, env, "config_entry:e2:api_key")
    assert err.value.key == "wrapped_key_rejected"


def test_ciphertext_swapped_in_from_another_record_is_rejected(ring):
    mine = encrypt(ring, "mine", "config_entry:e1:api_key")
    theirs = encrypt(ring, "theirs", "config_entry:e2:api_key")
    swapped = mine.model_copy(update={"ciphertext": theirs.ciphertext, "nonce": theirs.nonce})
    with pytest.raises(CiphertextRejectedError):
        decrypt(ring, swapped, "config_entry:e1:api_key")


def test_wrapped_key_swapped_between_records_is_rejected(ring):
    mine = encrypt(ring, "mine", "config_entry:e1:api_key")
    theirs = encrypt(ring, "theirs", "config_entry:e2:api_key")
    with pytest.raises(WrappedKeyRejectedError):
        decrypt(ring, mine.model_copy(update={"wrapped_dek": theirs.wrapped_dek}), "config_entry:e1:api_key")


@pytest.mark.parametrize("index", [0, 5, -1])
def test_flipped_byte_in_ciphertext_is_rejected(ring, index):
    env = encrypt(ring, "value-to-protect", "a:b:c")
    with pytest.raises(CiphertextRejectedError) as err:
        decrypt(ring, env.model_copy(update={"ciphertext": _flip(env.ciphertext, index)}), "a:b:c")
    assert err.value.key == "ciphertext_rejected"


def test_flipped_byte_in_wrapped_key_is_rejected(ring):
    env = encrypt(ring, "value", "a:b:c")
    with pytest.raises(WrappedKeyRejectedError):
        decrypt(ring, env.model_copy(update={"wrapped_dek": _flip(env.wrapped_dek, 20)}), "a:b:c")


def test_truncated_parts_are_rejected(ring):
    env = encrypt(ring, "value", "a:b:c")
    short_ct = base64.b64encode(base64.b64decode(env.ciphertext)[:8]).decode()
    short_wrap = base64.b64encode(base64.b64decode(env.wrapped_dek)[:30]).decode()
    with pytest.raises(CiphertextRejectedError):
        decrypt(ring, env.model_copy(update={"ciphertext": short_ct}), "a:b:c")
    with pytest.raises(WrappedKeyRejectedError):
        decrypt(ring, env.model_copy(update={"wrapped_dek": short_wrap}), "a:b:c")
    with pytest.raises(MalformedEnvelopeError):
        decrypt(ring, env.model_copy(update={"nonce": "not base64!!"}), "a:b:c")


def test_unknown_kek_id_is_rejected(ring):
    env = encrypt(ring, "value", "a:b:c")
    with pytest.raises(UnknownKekError) as err:
        decrypt(ring, env.model_copy(update={"kek_id": "gone"}), "a:b:c")
    assert err.value.key == "kek_unknown"
    assert "gone" in str(err.value)


def test_rewrap_moves_dek_to_active_kek_and_keeps_ciphertext(ring):
    env = encrypt(ring, "value", "a:b:c")
    rotated_ring = ring.with_key("k2", b"\x07" * 32, activate=True)
    moved = rewrap(rotated_ring, env, "a:b:c")
    assert moved.kek_id == "k2" and moved.ciphertext == env.ciphertext and moved.wrapped_dek != env.wrapped_dek
    assert decrypt(rotated_ring, moved, "a:b:c") == "value"
    assert decrypt(rotated_ring, env, "a:b:c") == "value"  # the old envelope still opens while k1 is in the ring
    with pytest.raises(UnknownKekError):
        decrypt(KeyRing("k2", {"k2": b"\x07" * 32}), env, "a:b:c")


def test_errors_never_contain_the_plaintext(ring):
    env = encrypt(ring, "plaintext-marker-123", "a:b:c")
    with pytest.raises(Exception) as err:
        decrypt(ring, env.model_copy(update={"ciphertext": _flip(env.ciphertext)}), "a:b:c")
    assert "plaintext-marker-123" not in str(err.value) and "plaintext-marker-123" not in repr(err.value)
