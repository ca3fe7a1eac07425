"""IntegrationManifest: every field accepts a valid value and has its default; typos fail loudly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from runtime.integrations.errors import ManifestError
from runtime.integrations.loader import MAX_MANIFEST_BYTES, read_manifest
from runtime.integrations.manifest import IntegrationManifest
from runtime.tiers import Tier

REQUIRED = {"domain": "demo_tool", "name": "Demo Tool"}

# field -> (a valid non-default value as YAML would give it, the parsed value, the default)
FIELDS: dict[str, tuple[Any, Any, Any]] = {
    "version": ("1.2.3", "1.2.3", "0.0.0"),
    "integration_type": ("knowledge", "knowledge", "tool"),
    "config_flow": (True, True, False),
    "single_instance": (False, False, True),
    "trust_tier": ("untrusted", "untrusted", "trusted"),
    "iot_class": ("cloud_push", "cloud_push", "local_in_process"),
    "requirements": (["httpx>=0.27"], ("httpx>=0.27",), ()),
    "required_tier": ("internal", Tier.INTERNAL, Tier.UNREGULATED),
    "provides": (["web_search"], ("web_search",), ()),
    "dependencies": (["other_domain"], ("other_domain",), ()),
    "after_dependencies": (["soft_one"], ("soft_one",), ()),
    "config_schema_version": (3, 3, 1),
    "codeowners": (["@someone"], ("@someone",), ()),
    "documentation": ("https://example.org/docs", "https://example.org/docs", None),
    "quality_scale": ("stable", "stable", "experimental"),
    "issue_tracker": ("https://example.org/issues", "https://example.org/issues", None),
    "frontend": ({"panels": ["p"]}, {"panels": ["p"]}, {}),
    "events": (["entry_updated"], ("entry_updated",), ()),
    "high_privilege_tools": (["send_mail"], ("send_mail",), ()),
    "sync_interval_seconds": (60, 60, None),
}

# field -> values an author could plausibly typo or mistype
INVALID: list[tuple[str, Any]] = [
    ("domain", "Text-Tools"),
    ("domain", "1password"),
    ("domain", ""),
    ("name", ""),
    ("version", 1.5),
    ("integration_type", "tools"),
    ("config_flow", "maybe"),
    ("single_instance", "several"),
    ("trust_tier", "trustd"),
    ("iot_class", "local_pushh"),
    ("iot_class", "cloud"),
    ("requirements", "httpx"),
    ("required_tier", "internl"),
    ("required_tier", 7),
    ("required_tier", True),
    ("provides", 5),
    ("dependencies", ["Not-A-Domain"]),
    ("after_dependencies", ["also bad"]),
    ("config_schema_version", -1),
    ("config_schema_version", 0),
    ("config_schema_version", "two"),
    ("codeowners", [1]),
    ("documentation", 5),
    ("quality_scale", "stabel"),
    ("issue_tracker", ["a"]),
    ("frontend", ["panel"]),
    ("events", "one"),
    ("high_privilege_tools", {"a": 1}),
    ("sync_interval_seconds", 1),
]


def test_fields_table_covers_every_manifest_field() -> None:
    # A new manifest field must be added to FIELDS, so it is tested for a value and a default.
    assert set(FIELDS) | set(REQUIRED) == set(IntegrationManifest.model_fields)


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_each_field_accepts_a_valid_value(field: str) -> None:
    raw, parsed, _default = FIELDS[field]
    manifest = IntegrationManifest.model_validate({**REQUIRED, field: raw})
    assert getattr(manifest, field) == parsed


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_each_field_has_its_documented_default(field: str) -> None:
    _raw, _parsed, default = FIELDS[field]
    assert getattr(IntegrationManifest.model_validate(REQUIRED), field) == default


@pytest.mark.parametrize(("field", "value"), INVALID, ids=[f"{f}={v!r}" for f, v in INVALID])
def test_a_typo_in_a_field_value_raises(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        IntegrationManifest.model_validate({**REQUIRED, field: value})
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize("key", ["dependancies", "requirement", "config-flow", "Domain", "trust"])
def test_an_unknown_key_raises(key: str) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        IntegrationManifest.model_validate({**REQUIRED, key: "x"})


@pytest.mark.parametrize("missing", ["domain", "name"])
def test_domain_and_name_are_required(missing: str) -> None:
    with pytest.raises(ValidationError):
        IntegrationManifest.model_validate({k: v for k, v in REQUIRED.items() if k != missing})


def test_required_tier_accepts_names_in_any_case_and_ints() -> None:
    def tier(value: object) -> Tier:
        return IntegrationManifest.model_validate({**REQUIRED, "required_tier": value}).required_tier

    assert tier("Regulated") is Tier.REGULATED
    assert tier(2) is Tier.INTERNAL


def test_required_tier_serialises_as_its_name_for_the_registry_row() -> None:
    dumped = IntegrationManifest.model_validate({**REQUIRED, "required_tier": 1}).model_dump(mode="json")
    assert dumped["required_tier"] == "regulated"


# -- the same rules through manifest.yaml, as discovery reads it -------------------------------


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_a_typod_required_tier_in_yaml_is_a_manifest_error_naming_the_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "domain: demo\nname: Demo\nrequired_tier: internl\n")
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert info.value.key == "integration_manifest_invalid"
    assert "required_tier" in info.value.message and "internl" in info.value.message


def test_an_unknown_yaml_key_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="dependancies"):
        read_manifest(_write(tmp_path, "domain: demo\nname: Demo\ndependancies: [a]\n"))


def test_bad_yaml_reports_the_line(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        read_manifest(_write(tmp_path, "domain: demo\nname: Demo\nprovides: [a, b\n"))
    assert info.value.key == "integration_manifest_invalid"
    assert "line 4" in info.value.message


@pytest.mark.parametrize("text", ["- domain: demo\n", "just a string\n", "", "42\n"])
def test_a_manifest_that_is_not_a_mapping_is_rejected(tmp_path: Path, text: str) -> None:
    with pytest.raises(ManifestError, match="must be a mapping"):
        read_manifest(_write(tmp_path, text))


def test_a_duplicate_key_is_rejected_rather_than_silently_dropping_a_value(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="duplicate key 'required_tier'"):
        read_manifest(_write(tmp_path, "domain: demo\nname: Demo\nrequired_tier: internal\nrequired_tier: 0\n"))


def test_yaml_aliases_are_rejected(tmp_path: Path) -> None:
    text = "domain: demo\nname: Demo\nfrontend:\n  a: &x [1, 2]\n  b: *x\n"
    with pytest.raises(ManifestError, match="aliases are not allowed"):
        read_manifest(_write(tmp_path, text))


def test_an_oversized_manifest_is_rejected_before_parsing(tmp_path: Path) -> None:
    text = "domain: demo\nname: Demo\n" + "# padding\n" * (MAX_MANIFEST_BYTES // 10 + 1)
    with pytest.raises(ManifestError, match="limit"):
        read_manifest(_write(tmp_path, text))


def test_a_manifest_that_is_not_utf8_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        read_manifest(_write(tmp_path, b"domain: demo\nname: \xff\xfe\n"))


def test_python_tags_are_not_constructed(tmp_path: Path) -> None:
    # safe_load semantics: a manifest cannot instantiate Python objects.
    with pytest.raises(ManifestError):
        read_manifest(_write(tmp_path, "domain: demo\nname: !!python/object/apply:os.getcwd []\n"))
