from __future__ import annotations

import base64
import json
import stat

import pytest

from runtime.crypto import KeyRing, KeyRingError, load_keyring
from runtime.crypto.keyring import DEV_KEY_FILE
from runtime.settings import Settings


def test_dev_mode_generates_a_private_key_file_and_warns(tmp_path, captured_logs):
    settings = Settings(state_dir=tmp_path)
    ring = load_keyring(settings)
    path = tmp_path / DEV_KEY_FILE
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(settings).get(ring.active_id) == ring.get(ring.active_id)  # stable across starts
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    warning = [line for line in lines if line["event"] == "dev_key_generated"]
    assert warning and warning[0]["level"] == "warning"
    key_b64 = json.loads(path.read_text())["keys"][ring.active_id]
    assert key_b64 not in captured_logs.getvalue()


def test_production_refuses_to_start_without_a_key(tmp_path):
    with pytest.raises(KeyRingError, match="production mode needs a key ring"):
        load_keyring(Settings(mode="production", state_dir=tmp_path))
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_keys_from_settings_with_active_kek(tmp_path):
    keys = {"a": base64.b64encode(b"\x01" * 32).decode(), "b": base64.b64encode(b"\x02" * 32).decode()}
    ring = load_keyring(Settings(mode="production", state_dir=tmp_path, security={"keys": keys, "active_kek": "b"}))
    assert ring.active()[0] == "b" and ring.kek_ids == ["a", "b"]
    with pytest.raises(KeyRingError, match="ACTIVE_KEK"):
        load_keyring(Settings(mode="production", state_dir=tmp_path, security={"keys": keys}))


@pytest.mark.parametrize(
    "keys",
    [{"a": "not-base64!"}, {"a": base64.b64encode(b"short").decode()}],
)
def test_bad_key_material_is_rejected(tmp_path, keys):
    with pytest.raises(KeyRingError):
        load_keyring(Settings(state_dir=tmp_path, security={"keys": keys}))


def test_key_ring_repr_shows_ids_not_keys():
    ring = KeyRing("x", {"x": b"\xaa" * 32})
    assert "x" in repr(ring) and "\\xaa" not in repr(ring) and "qqqq" not in repr(ring)


def test_key_file_is_read(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"active": "k", "keys": {"k": base64.b64encode(b"\x03" * 32).decode()}}))
    assert load_keyring(Settings(mode="production", state_dir=tmp_path, security={"key_file": path})).active_id == "k"
    path.write_text("{broken")
    with pytest.raises(KeyRingError, match="unreadable"):
        load_keyring(Settings(mode="production", state_dir=tmp_path, security={"key_file": path}))
