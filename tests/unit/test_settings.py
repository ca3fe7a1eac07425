from __future__ import annotations

import pytest

from runtime.errors import SettingsError
from runtime.settings import load_settings
from runtime.tiers import Tier


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    for name in list(__import__("os").environ):
        if name.startswith("AGENTRT__"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_nested_variables_reach_their_section(env):
    env.setenv("AGENTRT__INTEGRATIONS__ALLOW_EXTERNAL", "true")
    env.setenv("AGENTRT__INTEGRATIONS__EXTERNAL_DIRS", '["/opt/x"]')
    env.setenv("AGENTRT__TEMPORAL__ADDRESS", "temporal:7233")
    settings = load_settings()
    assert settings.integrations.allow_external is True
    assert [str(p) for p in settings.integrations.external_dirs] == ["/opt/x"]
    assert settings.temporal.address == "temporal:7233"


def test_defaults_need_no_configuration(env):
    settings = load_settings()
    assert settings.mode == "dev"
    assert settings.temporal.address is None and settings.database.url is None
    assert settings.models.profiles["offline"].tier is Tier.UNREGULATED


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AGENTRT__INTEGRATIONS__FLOW_TTL_SECONDS", "soon"),
        ("AGENTRT__DATABASE__URL", "mysql://x"),
        ("AGENTRT__MODE", "staging"),
        ("AGENTRT__LOG_LEVEL", "LOUD"),
        ("AGENTRT__DATABASE__POOL_MAX_SIZE", "0"),
    ],
)
def test_invalid_setting_names_the_variable(env, variable, value):
    env.setenv(variable, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert variable in str(err.value)
    assert err.value.key == "settings_invalid"


def test_typo_in_model_profile_tier_fails_at_start(env):
    env.setenv("AGENTRT__MODELS__PROFILES", '{"fast": {"model": "test", "tier": "internl"}}')
    env.setenv("AGENTRT__MODELS__DEFAULT_PROFILE", "fast")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "AGENTRT__MODELS__PROFILES__FAST__TIER" in str(err.value)
    assert "internl" in str(err.value)


def test_default_profile_must_exist(env):
    env.setenv("AGENTRT__MODELS__DEFAULT_PROFILE", "nope")
    with pytest.raises(SettingsError, match="nope"):
        load_settings()


def test_database_url_is_not_shown_in_repr(env):
    env.setenv("AGENTRT__DATABASE__URL", "postgresql://u:hunter22pass@h/db")
    assert "hunter22pass" not in repr(load_settings())
