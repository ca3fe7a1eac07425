"""Load order: hard dependencies first, soft ones when present, cycles and unmet dependencies dropped."""

from __future__ import annotations

from pathlib import Path

from runtime.integrations.loader import discover_dirs
from runtime.integrations.manifest import IntegrationManifest
from runtime.integrations.ordering import order_integrations

from .factory import marker_init, write_integration


def test_hard_dependencies_load_first_and_ties_go_alphabetically(tmp_path: Path) -> None:
    write_integration(tmp_path, "app", dependencies=["mid"])
    write_integration(tmp_path, "mid", dependencies=["zbase"])
    write_integration(tmp_path, "zbase")
    write_integration(tmp_path, "lonely")

    registry = discover_dirs([tmp_path])

    assert registry.domains() == ["lonely", "zbase", "mid", "app"]
    assert registry.failures == {}


def test_an_unmet_dependency_drops_the_dependant_and_its_dependants(tmp_path: Path) -> None:
    markers = {d: tmp_path / f"{d}_ran" for d in ("first", "second", "third")}
    write_integration(tmp_path, "first", dependencies=["ghost"], init=marker_init(markers["first"]))
    write_integration(tmp_path, "second", dependencies=["first"], init=marker_init(markers["second"]))
    write_integration(tmp_path, "third", dependencies=["second"], init=marker_init(markers["third"]))
    write_integration(tmp_path, "bystander", after_dependencies=["first"])

    registry = discover_dirs([tmp_path])

    assert registry.domains() == ["bystander"]
    assert {d: f.key for d, f in registry.failures.items()} == {
        "first": "integration_dependency_unmet",
        "second": "integration_dependency_unmet",
        "third": "integration_dependency_unmet",
    }
    assert "ghost (not found)" in registry.failures["first"].message
    assert "first (integration_dependency_unmet)" in registry.failures["second"].message
    assert not any(m.exists() for m in markers.values())  # never imported


def test_a_dependency_that_fails_to_import_drops_its_dependants_unimported(tmp_path: Path) -> None:
    marker = tmp_path / "dependant_ran"
    write_integration(tmp_path, "fragile", init="raise ImportError('no luck')\n")
    write_integration(tmp_path, "dependant", dependencies=["fragile"], init=marker_init(marker))

    registry = discover_dirs([tmp_path])

    assert len(registry) == 0
    assert registry.failures["fragile"].key == "integration_import_failed"
    assert registry.failures["dependant"].key == "integration_dependency_unmet"
    assert "failed to load" in registry.failures["dependant"].message
    assert not marker.exists()


def test_a_dependency_cycle_drops_every_member(tmp_path: Path) -> None:
    write_integration(tmp_path, "ping", dependencies=["pong"])
    write_integration(tmp_path, "pong", dependencies=["pang"])
    write_integration(tmp_path, "pang", dependencies=["ping"])
    write_integration(tmp_path, "narcissus", dependencies=["narcissus"])
    write_integration(tmp_path, "follower", dependencies=["ping"])
    write_integration(tmp_path, "fine")

    registry = discover_dirs([tmp_path])

    assert registry.domains() == ["fine"]
    assert {d: f.key for d, f in registry.failures.items()} == {
        "ping": "integration_dependency_cycle",
        "pong": "integration_dependency_cycle",
        "pang": "integration_dependency_cycle",
        "narcissus": "integration_dependency_cycle",
        "follower": "integration_dependency_unmet",  # depends on a cycle, is not part of it
    }
    assert "members pang, ping, pong" in registry.failures["pong"].message


def test_after_dependencies_order_when_present_and_never_block(tmp_path: Path) -> None:
    write_integration(tmp_path, "aardvark", after_dependencies=["zebra", "absent"])
    write_integration(tmp_path, "zebra")
    write_integration(tmp_path, "middle")

    registry = discover_dirs([tmp_path])

    assert registry.domains() == ["middle", "zebra", "aardvark"]
    assert registry.failures == {}


def test_a_soft_dependency_cycle_still_loads_everything_in_a_stable_order(tmp_path: Path) -> None:
    write_integration(tmp_path, "yin", after_dependencies=["yang"])
    write_integration(tmp_path, "yang", after_dependencies=["yin"])
    write_integration(tmp_path, "tail", dependencies=["yin"])

    first = discover_dirs([tmp_path]).domains()
    assert first == ["yang", "yin", "tail"]
    assert discover_dirs([tmp_path]).domains() == first


def test_a_hard_dependency_wins_over_a_contradicting_soft_one() -> None:
    manifests = {
        "base": IntegrationManifest(domain="base", name="Base", after_dependencies=("top",)),
        "top": IntegrationManifest(domain="top", name="Top", dependencies=("base",)),
    }
    plan = order_integrations(manifests)
    assert plan.order == ["base", "top"] and plan.dropped == {}


def test_order_does_not_depend_on_input_order() -> None:
    def manifest(domain: str, *deps: str) -> IntegrationManifest:
        return IntegrationManifest(domain=domain, name=domain, dependencies=deps)

    items = [manifest("c", "a"), manifest("b"), manifest("a"), manifest("d", "b", "c")]
    forward = order_integrations({m.domain: m for m in items}).order
    backward = order_integrations({m.domain: m for m in reversed(items)}).order
    assert forward == backward == ["a", "b", "c", "d"]
