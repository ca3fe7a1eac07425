"""The terminal form of ``agentrt entries add``: how each field type is asked."""

from __future__ import annotations

import io

from runtime.flow_prompt import prompt_field
from runtime.integrations.flow_view import FieldView, OptionView


def _reader(*answers: str):
    pending = list(answers)
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return pending.pop(0)

    read.prompts = prompts  # type: ignore[attr-defined]
    return read


def _never(prompt: str) -> str:
    raise AssertionError(f"unexpected hidden prompt {prompt!r}")


REGION = FieldView(name="region", type="select", label="Region", required=True,
                   options=[OptionView(value="eu", label="Europe"), OptionView(value="us", label="United States")])


def test_select_lists_options_and_takes_a_number_or_a_value_reasking_on_nonsense():
    out = io.StringIO()
    read = _reader("7", "us")
    assert prompt_field(REGION, None, read, _never, out) == "us"
    assert "1) Europe (eu)" in out.getvalue() and "2) United States (us)" in out.getvalue()
    assert "choose from 1-2" in out.getvalue() and len(read.prompts) == 2
    assert prompt_field(REGION, None, _reader("1"), _never, io.StringIO()) == "eu"
    several = REGION.model_copy(update={"multiple": True})
    assert prompt_field(several, None, _reader("2, eu"), _never, io.StringIO()) == ["us", "eu"]


def test_bool_text_and_secret_prompts():
    flag = FieldView(name="verify", type="bool", label="Verify TLS", default=True)
    assert prompt_field(flag, None, _reader(""), _never, io.StringIO()) is True
    assert prompt_field(flag, None, _reader("n"), _never, io.StringIO()) is False
    text = FieldView(name="host", type="text", label="Host", default="localhost")
    read = _reader("")
    assert prompt_field(text, None, read, _never, io.StringIO()) == "localhost"
    assert read.prompts == ["Host (optional) [localhost]: "]
    secret = FieldView(name="token", type="secret", label="Token", required=True)
    hidden = _reader("s3cr3t-value")
    assert prompt_field(secret, None, _never, hidden, io.StringIO()) == "s3cr3t-value"
    assert prompt_field(secret, "typed-before", _never, _reader(""), io.StringIO()) == "typed-before"
