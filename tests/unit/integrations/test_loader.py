"""Discovery: folders in, a registry of loaded integrations and keyed failures out — never an exception."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from runtime.integrations import ConfigFlow, Integration
from runtime.integrations.loader import PACKAGE_ROOT, discover, discover_dirs
from runtime.integrations.registry import IntegrationNotFoundError, LoadedIntegration
from runtime.settings import Settings

from .factory import GOOD_INIT, log_events, marker_init, write_integration


def _failure_keys(registry) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {slot: failure.key for slot, failure in registry.failures.items()}


# -- loading -------------------------------------------------------------------------------------


def test_a_valid_integration_loads_with_its_manifest_injected(tmp_path: Path) -> None:
    write_integration(tmp_path, "alpha", version="1.0.0")
    registry = discover_dirs([tmp_path])

    loaded = registry.get("alpha")
    assert isinstance(loaded, LoadedIntegration)
    assert loaded.path == tmp_path / "alpha"
    assert loaded.manifest.version == "1.0.0"
    assert loaded.integration.manifest is loaded.manifest
    assert loaded.integration.domain == "alpha"
    assert loaded.config_flow_cls is None
    assert registry.failures == {}


def test_registry_behaves_like_an_ordered_read_only_mapping(tmp_path: Path) -> None:
    for domain in ("beta", "alpha"):
        write_integration(tmp_path, domain)
    registry = discover_dirs([tmp_path])

    assert registry.domains() == ["alpha", "beta"]
    assert [item.domain for item in registry] == ["alpha", "beta"]
    assert "alpha" in registry and "gamma" not in registry
    assert len(registry) == 2
    with pytest.raises(IntegrationNotFoundError) as info:
        registry.get("gamma")
    assert info.value.key == "integration_not_found"


def test_each_load_is_logged_at_warning_as_full_trust(tmp_path: Path, captured_logs: io.StringIO) -> None:
    write_integration(tmp_path, "alpha", version="2.0.0")
    write_integration(tmp_path, "beta")
    discover_dirs([tmp_path])

    events = log_events(captured_logs, "integration_loaded_full_trust")
    assert [(e["domain"], e["level"]) for e in events] == [("alpha", "warning"), ("beta", "warning")]
    assert events[0]["version"] == "2.0.0"
    assert events[0]["path"] == str(tmp_path / "alpha")


def test_relative_imports_inside_an_integration_work(tmp_path: Path) -> None:
    write_integration(
        tmp_path,
        "relative",
        init="""
        from runtime.integrations import Integration
        from .tools import build_answer
        from .pkg.helpers import HELPER


        class Relative(Integration):
            answer = build_answer() + HELPER


        INTEGRATION = Relative()
        """,
        files={
            "tools.py": "from .pkg import helpers\n\ndef build_answer():\n    return 40 + helpers.TWO\n",
            "pkg/__init__.py": "",
            "pkg/helpers.py": "TWO = 2\nHELPER = 0\n",
        },
    )
    registry = discover_dirs([tmp_path])
    assert registry.get("relative").integration.answer == 42  # type: ignore[attr-defined]
    assert f"{PACKAGE_ROOT}.relative.tools" in sys.modules


def test_rediscovery_runs_the_code_now_on_disk_not_a_stale_module(tmp_path: Path) -> None:
    files = {"tools.py": "VALUE = 1\n"}
    init = """
    from runtime.integrations import Integration
    from .tools import VALUE


    class Changing(Integration):
        value = VALUE


    INTEGRATION = Changing()
    """
    write_integration(tmp_path, "changing", init=init, files=files)
    assert discover_dirs([tmp_path]).get("changing").integration.value == 1  # type: ignore[attr-defined]

    # A different size as well as content: the .pyc check is (mtime seconds, size).
    write_integration(tmp_path, "changing", init=init, files={"tools.py": "VALUE = 2222\n"})
    assert discover_dirs([tmp_path]).get("changing").integration.value == 2222  # type: ignore[attr-defined]


def test_integrations_disabled_discovers_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write_integration(tmp_path / "bundled", "alpha", init=marker_init(marker))
    settings = Settings(integrations={"enabled": False, "bundled_dir": tmp_path / "bundled"})
    registry = discover(settings)
    assert len(registry) == 0 and registry.failures == {}
    assert not marker.exists()


# -- folders that are not integrations ----------------------------------------------------------


def test_private_hidden_and_manifestless_folders_are_skipped(tmp_path: Path, captured_logs: io.StringIO) -> None:
    write_integration(tmp_path, "_private", folder="_private", init=marker_init(tmp_path / "private_ran"))
    write_integration(tmp_path, "hidden", folder=".hidden", init=marker_init(tmp_path / "hidden_ran"))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (tmp_path / "README.md").write_text("a file, not a folder")

    registry = discover_dirs([tmp_path])

    assert len(registry) == 0 and registry.failures == {}
    assert not (tmp_path / "private_ran").exists() and not (tmp_path / "hidden_ran").exists()
    assert [e["path"] for e in log_events(captured_logs, "integration_folder_skipped")] == [str(tmp_path / "notes")]


def test_a_missing_directory_is_logged_not_fatal(tmp_path: Path, captured_logs: io.StringIO) -> None:
    registry = discover_dirs([tmp_path / "nowhere"])
    assert len(registry) == 0
    assert log_events(captured_logs, "integration_dir_missing")


# -- failures -----------------------------------------------------------------------------------


def test_domain_must_match_the_folder_name(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write_integration(tmp_path, "other_name", folder="folder_name", init=marker_init(marker))
    registry = discover_dirs([tmp_path])

    assert _failure_keys(registry) == {"folder_name": "integration_domain_mismatch"}
    assert "other_name" in registry.failures["folder_name"].message
    assert not marker.exists()  # rejected before any of its code ran


def test_bad_yaml_is_a_manifest_failure_with_its_line(tmp_path: Path) -> None:
    write_integration(tmp_path, "broken", manifest="domain: broken\nname: [unclosed\n")
    registry = discover_dirs([tmp_path])
    failure = registry.failures["broken"]
    assert failure.key == "integration_manifest_invalid"
    assert "line" in failure.message
    assert failure.path == tmp_path / "broken"


def test_a_manifest_that_is_not_a_mapping_fails(tmp_path: Path) -> None:
    write_integration(tmp_path, "listy", manifest="- domain: listy\n- name: Listy\n")
    assert _failure_keys(discover_dirs([tmp_path])) == {"listy": "integration_manifest_invalid"}


def test_an_import_error_is_logged_with_its_traceback_and_skipped(
    tmp_path: Path, captured_logs: io.StringIO
) -> None:
    write_integration(tmp_path, "explodes", init="import json\nraise RuntimeError('boom at import')\n")
    registry = discover_dirs([tmp_path])

    assert _failure_keys(registry) == {"explodes": "integration_import_failed"}
    assert "boom at import" in registry.failures["explodes"].message
    assert f"{PACKAGE_ROOT}.explodes" not in sys.modules  # no half-imported module left behind
    (event,) = log_events(captured_logs, "integration_import_failed")
    assert event["level"] == "error" and "RuntimeError: boom at import" in event["exception"]


def test_an_integration_calling_sys_exit_at_import_does_not_end_the_boot(tmp_path: Path) -> None:
    write_integration(tmp_path, "quitter", init="import sys\nsys.exit(3)\n")
    assert _failure_keys(discover_dirs([tmp_path])) == {"quitter": "integration_import_failed"}


def test_a_folder_without_init_fails_to_import(tmp_path: Path) -> None:
    write_integration(tmp_path, "no_code", init=None)
    assert _failure_keys(discover_dirs([tmp_path])) == {"no_code": "integration_import_failed"}


@pytest.mark.parametrize(
    ("init", "hint"),
    [
        ("VALUE = 1\n", "no module-level INTEGRATION"),
        ("INTEGRATION = object()\n", "not an Integration instance"),
        ("INTEGRATION = {'domain': 'x'}\n", "not an Integration instance"),
        (
            "from runtime.integrations import Integration\nclass X(Integration):\n    pass\nINTEGRATION = X\n",
            "assign an instance",
        ),
    ],
    ids=["missing", "object", "dict", "class-not-instance"],
)
def test_integration_object_must_be_an_integration_instance(tmp_path: Path, init: str, hint: str) -> None:
    write_integration(tmp_path, "wrong", init=init)
    registry = discover_dirs([tmp_path])
    assert _failure_keys(registry) == {"wrong": "integration_object_missing"}
    assert hint in registry.failures["wrong"].message
    assert f"{PACKAGE_ROOT}.wrong" not in sys.modules


def test_boot_survives_a_mix_of_good_and_bad_folders(tmp_path: Path) -> None:
    write_integration(tmp_path, "good_one")
    write_integration(tmp_path, "good_two", dependencies=["good_one"])
    write_integration(tmp_path, "bad_yaml", manifest="domain: bad_yaml\n  name: : x\n")
    write_integration(tmp_path, "bad_field", required_tier="internl")
    write_integration(tmp_path, "bad_import", init="import module_that_does_not_exist_anywhere\n")
    write_integration(tmp_path, "bad_object", init="INTEGRATION = 1\n")
    write_integration(tmp_path, "mismatch", folder="mis_match")
    write_integration(tmp_path, "needs_bad", dependencies=["bad_import"])
    write_integration(tmp_path, "flowless", config_flow=True)
    (tmp_path / "Not A Domain").mkdir()
    (tmp_path / "Not A Domain" / "manifest.yaml").write_text(": : :\n")

    registry = discover_dirs([tmp_path])

    assert registry.domains() == ["good_one", "good_two"]
    assert _failure_keys(registry) == {
        "bad_yaml": "integration_manifest_invalid",
        "bad_field": "integration_manifest_invalid",
        "bad_import": "integration_import_failed",
        "bad_object": "integration_object_missing",
        "mis_match": "integration_domain_mismatch",
        "needs_bad": "integration_dependency_unmet",
        "flowless": "integration_config_flow_missing",
        "Not A Domain": "integration_manifest_invalid",
    }
    assert registry.failures["Not A Domain"].domain is None  # not a domain the sync could record


# -- config flows --------------------------------------------------------------------------------

FLOW_MODULE = """
from runtime.integrations import ConfigFlow


class DemoFlow(ConfigFlow):
    domain = "{domain}"
"""


def test_config_flow_true_without_a_flow_fails(tmp_path: Path) -> None:
    write_integration(tmp_path, "wizardless", config_flow=True)
    registry = discover_dirs([tmp_path])
    assert _failure_keys(registry) == {"wizardless": "integration_config_flow_missing"}


def test_config_flow_is_taken_from_the_integration_class(tmp_path: Path) -> None:
    write_integration(
        tmp_path,
        "classy",
        config_flow=True,
        files={"config_flow.py": FLOW_MODULE.format(domain="classy")},
        init="""
        from runtime.integrations import Integration
        from .config_flow import DemoFlow


        class Classy(Integration):
            config_flow_cls = DemoFlow


        INTEGRATION = Classy()
        """,
    )
    loaded = discover_dirs([tmp_path]).get("classy")
    assert loaded.config_flow_cls is not None and issubclass(loaded.config_flow_cls, ConfigFlow)
    assert loaded.config_flow_cls.__name__ == "DemoFlow"
    assert loaded.integration.config_flow_cls is loaded.config_flow_cls


def test_config_flow_is_taken_from_a_module_level_config_flow(tmp_path: Path) -> None:
    write_integration(
        tmp_path,
        "modular",
        config_flow=True,
        files={"config_flow.py": FLOW_MODULE.format(domain="")},
        init="""
        from runtime.integrations import Integration
        from .config_flow import DemoFlow as CONFIG_FLOW


        class Modular(Integration):
            pass


        INTEGRATION = Modular()
        """,
    )
    loaded = discover_dirs([tmp_path]).get("modular")
    assert loaded.config_flow_cls is not None and loaded.config_flow_cls.__name__ == "DemoFlow"


@pytest.mark.parametrize(
    "flow_source",
    [
        "CONFIG_FLOW = object\n",
        "CONFIG_FLOW = 'not a class'\n",
        FLOW_MODULE.format(domain="someone_else") + "CONFIG_FLOW = DemoFlow\n",
    ],
    ids=["not-a-configflow", "not-a-class", "other-domain"],
)
def test_a_config_flow_that_is_not_this_domains_configflow_fails(tmp_path: Path, flow_source: str) -> None:
    write_integration(tmp_path, "odd_flow", config_flow=True, init=GOOD_INIT + flow_source)
    assert _failure_keys(discover_dirs([tmp_path])) == {"odd_flow": "integration_config_flow_invalid"}


def test_a_flow_is_not_injected_when_the_manifest_says_config_flow_false(tmp_path: Path) -> None:
    init = FLOW_MODULE.format(domain="quiet") + """
from runtime.integrations import Integration


class Quiet(Integration):
    config_flow_cls = DemoFlow


INTEGRATION = Quiet()
"""
    write_integration(tmp_path, "quiet", config_flow=False, init=init)
    loaded = discover_dirs([tmp_path]).get("quiet")
    assert loaded.config_flow_cls is None and loaded.integration.config_flow_cls is None


# -- requirements ----------------------------------------------------------------------------------


def test_a_missing_requirement_is_warned_and_the_integration_still_loads(
    tmp_path: Path, captured_logs: io.StringIO
) -> None:
    write_integration(
        tmp_path,
        "needy",
        requirements=["agentrt-surely-not-installed-pkg>=1.0", "pydantic<1", "pydantic>=2", "!!bad!!"],
    )
    registry = discover_dirs([tmp_path])

    assert "needy" in registry
    warned = {(e["requirement"], e["reason"]) for e in log_events(captured_logs, "integration_requirement_missing")}
    assert warned == {
        ("agentrt-surely-not-installed-pkg>=1.0", "not_installed"),
        ("pydantic<1", "version_mismatch"),
        ("!!bad!!", "invalid"),
    }
    assert all(e["level"] == "warning" for e in log_events(captured_logs, "integration_requirement_missing"))


def test_a_requirement_for_another_platform_is_not_reported(tmp_path: Path, captured_logs: io.StringIO) -> None:
    write_integration(tmp_path, "marked", requirements=['agentrt-nope-pkg; python_version < "3.0"'])
    assert "marked" in discover_dirs([tmp_path])
    assert not log_events(captured_logs, "integration_requirement_missing")


# -- bundled and external dirs -------------------------------------------------------------------


def _dirs_settings(tmp_path: Path, *, allow_external: bool) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        integrations={
            "bundled_dir": tmp_path / "bundled",
            "external_dirs": [tmp_path / "external"],
            "allow_external": allow_external,
        },
    )


def test_external_dirs_are_not_imported_unless_allowed(tmp_path: Path, captured_logs: io.StringIO) -> None:
    marker = tmp_path / "external_ran"
    write_integration(tmp_path / "bundled", "inside")
    write_integration(tmp_path / "external", "outside", init=marker_init(marker))

    registry = discover(_dirs_settings(tmp_path, allow_external=False))

    assert registry.domains() == ["inside"]
    assert not marker.exists()
    (event,) = log_events(captured_logs, "integration_external_dirs_ignored")
    assert event["level"] == "warning" and event["dirs"] == [str(tmp_path / "external")]


def test_external_dirs_are_loaded_when_allowed(tmp_path: Path) -> None:
    marker = tmp_path / "external_ran"
    write_integration(tmp_path / "bundled", "inside")
    write_integration(tmp_path / "external", "outside", init=marker_init(marker))

    registry = discover(_dirs_settings(tmp_path, allow_external=True))

    assert registry.domains() == ["inside", "outside"]
    assert marker.read_text() == "imported"


def test_a_domain_seen_twice_keeps_the_first_and_never_imports_the_second(tmp_path: Path) -> None:
    marker = tmp_path / "shadow_ran"
    write_integration(tmp_path / "bundled", "same", version="1.0.0")
    write_integration(tmp_path / "external", "same", version="9.9.9", init=marker_init(marker))

    registry = discover(_dirs_settings(tmp_path, allow_external=True))

    assert registry.get("same").manifest.version == "1.0.0"
    assert registry.get("same").path == tmp_path / "bundled" / "same"
    (failure,) = registry.failures.values()
    assert failure.key == "integration_domain_duplicate"
    assert failure.path == tmp_path / "external" / "same"
    assert failure.domain is None  # the domain belongs to the first folder
    assert not marker.exists()


def test_the_real_bundled_dir_loads_cleanly() -> None:
    registry = discover(Settings())
    assert "text_tools" in registry
    assert registry.failures == {}
    assert all(isinstance(item.integration, Integration) for item in registry)


def test_a_bundled_domain_with_a_broken_manifest_is_not_taken_over_by_an_external_copy(tmp_path: Path) -> None:
    marker = tmp_path / "external_ran"
    write_integration(tmp_path / "bundled", "same", manifest="domain: same\nname: [\n")
    write_integration(tmp_path / "external", "same", init=marker_init(marker))

    registry = discover(_dirs_settings(tmp_path, allow_external=True))

    assert "same" not in registry
    assert registry.failures["same"].key == "integration_manifest_invalid"
    assert registry.failures[str(tmp_path / "external" / "same")].key == "integration_domain_duplicate"
    assert not marker.exists()


def test_a_directory_listed_twice_is_scanned_once(tmp_path: Path) -> None:
    write_integration(tmp_path, "alpha")
    registry = discover_dirs([tmp_path, tmp_path / "."])
    assert registry.domains() == ["alpha"] and registry.failures == {}
