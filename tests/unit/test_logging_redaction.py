from __future__ import annotations

import json
import logging

from runtime.crypto import KeyRing, decrypt, encrypt
from runtime.logging import REDACTED, get_logger, register_secret


def test_registered_secret_never_reaches_a_log_line(captured_logs, distinctive_secret):
    ring = KeyRing.generate()
    value = decrypt(ring, encrypt(ring, distinctive_secret, "t:1:f"), "t:1:f")  # decrypt registers it
    log = get_logger("test")
    log.info("calling_service", url=f"https://x/?key={value}", headers=[{"X-Note": value}], note=value)
    log.warning(f"interpolated {value}")  # bad style, but must still be scrubbed
    logging.getLogger("thirdparty").error("client said %s", value)
    try:
        raise RuntimeError(f"upstream rejected {value}")
    except RuntimeError:
        log.exception("call_failed")
    out = captured_logs.getvalue()
    assert out.count(REDACTED) >= 6
    assert distinctive_secret not in out


def test_secret_looking_keys_are_redacted_whatever_the_value(captured_logs):
    get_logger("test").info("login", password="pw-1", api_key="k-2", Authorization="Bearer t-3", input_tokens=12)
    line = json.loads(captured_logs.getvalue().splitlines()[-1])
    assert line["password"] == line["api_key"] == line["Authorization"] == REDACTED
    assert line["input_tokens"] == 12


def test_short_values_are_not_registered(captured_logs):
    register_secret("ab")
    get_logger("test").info("event", word="abc")
    assert json.loads(captured_logs.getvalue().splitlines()[-1])["word"] == "abc"
