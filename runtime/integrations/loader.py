"""Discovery: find integration folders, validate manifests, import the code, order by dependencies.

Integration code runs full-trust and in-process, so the loader is careful about
*which* code it executes: external drop-in dirs are scanned only when the
operator opts in, a folder's manifest is validated (domain == folder name,
domain not already taken) before its code is imported, and an integration whose
hard dependencies cannot be met is never imported. Every failure is logged with
its stable key and skipped; :func:`discover` never raises for a bad integration.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import yaml
from pydantic import ValidationError

from ..logging import get_logger
from .errors import (
    DependencyError,
    DomainMismatchError,
    IntegrationError,
    IntegrationImportError,
    ManifestError,
    MissingIntegrationObjectError,
)
from .flow import ConfigFlow
from .integration import Integration
from .manifest import DOMAIN_PATTERN, IntegrationManifest
from .ordering import order_integrations
from .registry import IntegrationRegistry, LoadedIntegration, LoadFailure
from .requirements import missing_requirements

if TYPE_CHECKING:
    from ..settings import Settings

log = get_logger(__name__)

MANIFEST_FILE = "manifest.yaml"
# A manifest is a few hundred bytes; anything near this is a mistake or an attack on the parser.
MAX_MANIFEST_BYTES = 256 * 1024
MAX_MANIFEST_DEPTH = 32  # the deepest real manifest (frontend:) needs a handful
# Synthetic parent package: integration modules never shadow real top-level packages.
PACKAGE_ROOT = "agentrt_integrations"
_DOMAIN = re.compile(DOMAIN_PATTERN)


class DuplicateDomainError(IntegrationError):
    key = "integration_domain_duplicate"


class ConfigFlowMissingError(IntegrationError):
    key = "integration_config_flow_missing"


class ConfigFlowInvalidError(IntegrationError):
    key = "integration_config_flow_invalid"


class _ManifestLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """``SafeLoader`` (libyaml's when present: ~10x faster) that also refuses aliases and duplicate keys.

    Aliases let a small file expand into a huge structure (the manifest is dumped to
    JSON for the registry sync); a duplicate key silently drops one of its values,
    which is exactly the kind of typo ``extra="forbid"`` exists to catch.
    """

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        # The composer resolves an alias to the very node its anchor named, so a node
        # constructed a second time is an alias (or a recursive one, if still in progress).
        if node in self.constructed_objects or node in self.recursive_objects:
            raise yaml.constructor.ConstructorError(
                problem="aliases are not allowed in a manifest", problem_mark=node.start_mark
            )
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[tuple[str, str]] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        problem=f"duplicate key {key_node.value!r}", problem_mark=key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_nesting(text: str) -> None:
    """Refuse collections nested deeper than MAX_MANIFEST_DEPTH before anything is built.

    libyaml's composer recurses on the C stack: ``[[[[…`` a few ten thousand deep kills the
    whole process with a segmentation fault instead of raising. Its event parser is a state
    machine and does not recurse, so counting depth over the events is safe at any depth.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_ManifestLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_MANIFEST_DEPTH:
                raise yaml.constructor.ConstructorError(
                    problem=f"collections nested deeper than {MAX_MANIFEST_DEPTH} levels", problem_mark=event.start_mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


@dataclass(frozen=True)
class _Candidate:
    manifest: IntegrationManifest
    path: Path


def discover(settings: "Settings") -> IntegrationRegistry:
    """Scan the bundled dir, plus external dirs when ``allow_external`` is set; never raises for bad folders."""
    config = settings.integrations
    if not config.enabled:
        log.info("integrations_disabled")
        return IntegrationRegistry()
    dirs = [config.resolved_bundled_dir()]
    if config.external_dirs:
        external = [str(d) for d in config.external_dirs]
        if config.allow_external:
            log.warning("integration_external_dirs_enabled", dirs=external)
            dirs.extend(Path(d).expanduser().resolve() for d in config.external_dirs)
        else:
            # Configured but not allowed: say so loudly, the operator may expect them to load.
            log.warning("integration_external_dirs_ignored", dirs=external, setting="allow_external")
    return discover_dirs(dirs)


def discover_dirs(dirs: Iterable[Path]) -> IntegrationRegistry:
    """Discover integrations in ``dirs``, in that priority order (the first folder to claim a domain wins)."""
    started = time.perf_counter()
    failures: dict[str, LoadFailure] = {}
    candidates = _scan(dirs, failures)

    plan = order_integrations({d: c.manifest for d, c in candidates.items()})
    for domain, error in plan.dropped.items():
        candidate = candidates[domain]
        _fail(failures, error, candidate.path, domain=domain, manifest=candidate.manifest)

    importlib.invalidate_caches()  # a folder added since the last discovery must be seen
    # Re-discovery must execute the code on disk now, never a module cached by an earlier run.
    _forget_modules(PACKAGE_ROOT)
    loaded: list[LoadedIntegration] = []
    loaded_domains: set[str] = set()
    for domain in plan.order:
        candidate = candidates[domain]
        try:
            # Dependencies precede their dependants in plan.order; one that failed to import drops these.
            failed_deps = [dep for dep in candidate.manifest.dependencies if dep not in loaded_domains]
            if failed_deps:
                raise DependencyError(f"{domain} depends on {', '.join(failed_deps)}, which failed to load")
            item = load_integration(candidate.manifest, candidate.path)
        except IntegrationError as exc:
            _fail(failures, exc, candidate.path, domain=domain, manifest=candidate.manifest)
            continue
        loaded.append(item)
        loaded_domains.add(domain)

    log.info(
        "integration_discovery_finished",
        loaded=len(loaded),
        failed=len(failures),
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return IntegrationRegistry(loaded, failures)


def _scan(dirs: Iterable[Path], failures: dict[str, LoadFailure]) -> dict[str, _Candidate]:
    """Read every folder's manifest; no integration code runs here."""
    candidates: dict[str, _Candidate] = {}
    # A folder named like a domain claims it even when its manifest is broken: a later dir
    # must not take over a bundled domain just because the bundled copy failed to parse.
    claimed: dict[str, Path] = {}
    scanned: set[Path] = set()
    for directory in dirs:
        directory = Path(directory)
        if directory.resolve() in scanned:
            continue  # the same dir configured twice would make every folder its own duplicate
        scanned.add(directory.resolve())
        if not directory.is_dir():
            log.warning("integration_dir_missing", path=str(directory))
            continue
        for folder in sorted(directory.iterdir(), key=lambda p: p.name):
            if not folder.is_dir() or folder.name.startswith(("_", ".")):
                continue
            if not (folder / MANIFEST_FILE).is_file():
                log.info("integration_folder_skipped", path=str(folder), reason="no manifest.yaml")
                continue
            if folder.name in claimed:
                error = DuplicateDomainError(f"domain {folder.name!r} is already provided by {claimed[folder.name]}")
                # The domain belongs to the first folder; this one stands for nothing, keyed by its path.
                _fail(failures, error, folder, domain=None, slot=str(folder))
                continue
            domain = folder.name if _DOMAIN.match(folder.name) else None
            if domain is not None:
                claimed[domain] = folder
            try:
                manifest = read_manifest(folder / MANIFEST_FILE)
                if manifest.domain != folder.name:
                    raise DomainMismatchError(
                        f"manifest domain {manifest.domain!r} does not match folder name {folder.name!r}"
                    )
            except IntegrationError as exc:
                _fail(failures, exc, folder, domain=domain)
                continue
            candidates[manifest.domain] = _Candidate(manifest, folder)
    return candidates


def read_manifest(path: Path) -> IntegrationManifest:
    """Parse and validate one ``manifest.yaml``; every problem is a :class:`ManifestError`."""
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"{path.name} is {size} bytes; the limit is {MAX_MANIFEST_BYTES}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {path.name}: {exc}") from None
    try:
        _check_nesting(text)
        raw = yaml.load(text, Loader=_ManifestLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(f"{path.name} is not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"{path.name} must be a mapping, got {type(raw).__name__}")
    try:
        return IntegrationManifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise ManifestError(f"{path.name} is invalid: {problems}") from None


def load_integration(manifest: IntegrationManifest, folder: Path) -> LoadedIntegration:
    """Import one integration and resolve its ``INTEGRATION`` object and config flow."""
    for requirement in missing_requirements(manifest.requirements):
        log.warning(
            "integration_requirement_missing",
            domain=manifest.domain,
            requirement=requirement.requirement,
            reason=requirement.reason,
            hint="install it into the image/venv; integrations never install packages",
        )
    module = _import_package(manifest.domain, folder)
    try:
        integration = _integration_object(module)
        flow_cls = _config_flow(module, integration, manifest)
    except IntegrationError:
        _forget_modules(module.__name__)
        raise
    integration.manifest = manifest
    integration.config_flow_cls = flow_cls  # type: ignore[misc]  # instance attribute shadows the ClassVar
    log.warning(
        "integration_loaded_full_trust",
        domain=manifest.domain,
        path=str(folder),
        version=manifest.version,
        trust_tier=manifest.trust_tier,
    )
    return LoadedIntegration(
        domain=manifest.domain, manifest=manifest, integration=integration, path=folder, config_flow_cls=flow_cls
    )


def _import_package(domain: str, folder: Path) -> types.ModuleType:
    name = f"{PACKAGE_ROOT}.{domain}"
    init = folder / "__init__.py"
    if not init.is_file():
        raise IntegrationImportError(f"{folder} has no __init__.py")
    if name in sys.modules:  # load_integration called on its own, outside a discovery
        _forget_modules(name)
    root = _root_package()
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:
        raise IntegrationImportError(f"cannot build an import spec for {init}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: relative imports look the package up here
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # SystemExit too: one integration must not end the boot
        _forget_modules(name)
        raise IntegrationImportError(f"importing {domain} failed: {type(exc).__name__}: {exc}") from exc
    setattr(root, domain, module)
    return module


def _root_package() -> types.ModuleType:
    root = sys.modules.get(PACKAGE_ROOT)
    if root is None:
        root = types.ModuleType(PACKAGE_ROOT, "Synthetic parent of discovered integration packages.")
        root.__path__ = []  # a package with no location of its own: children come from spec paths
        sys.modules[PACKAGE_ROOT] = root
    return root


def _forget_modules(name: str) -> None:
    """Drop module ``name`` and its submodules from ``sys.modules`` and from the synthetic parent."""
    prefix = name + "."
    for module_name in [m for m in sys.modules if m == name or m.startswith(prefix)]:
        del sys.modules[module_name]
    root = sys.modules.get(PACKAGE_ROOT)
    child = name.rpartition(".")[2]
    if root is not None and hasattr(root, child):
        delattr(root, child)


def _integration_object(module: types.ModuleType) -> Integration:
    obj = getattr(module, "INTEGRATION", None)
    if obj is None:
        raise MissingIntegrationObjectError("__init__.py defines no module-level INTEGRATION")
    if isinstance(obj, type) and issubclass(obj, Integration):
        raise MissingIntegrationObjectError(f"INTEGRATION is the class {obj.__name__}; assign an instance of it")
    if not isinstance(obj, Integration):
        raise MissingIntegrationObjectError(f"INTEGRATION is a {type(obj).__name__}, not an Integration instance")
    return obj


def _config_flow(module: types.ModuleType, integration: Integration, manifest: IntegrationManifest) -> Any:
    # Class attribute (or one the instance set) first, then a module-level CONFIG_FLOW.
    flow = getattr(integration, "config_flow_cls", None) or getattr(module, "CONFIG_FLOW", None)
    if not manifest.config_flow:
        if flow is not None:
            log.info("integration_config_flow_unused", domain=manifest.domain, reason="manifest config_flow is false")
        return None
    if flow is None:
        raise ConfigFlowMissingError(
            "manifest sets config_flow: true but neither the integration class's config_flow_cls "
            "nor a module-level CONFIG_FLOW names a flow"
        )
    if not (isinstance(flow, type) and issubclass(flow, ConfigFlow)):
        raise ConfigFlowInvalidError(f"config flow {flow!r} is not a ConfigFlow subclass")
    if flow.domain and flow.domain != manifest.domain:
        # A flow for another domain would create entries under the wrong integration.
        raise ConfigFlowInvalidError(f"config flow {flow.__name__} declares domain {flow.domain!r}")
    return flow


def _fail(
    failures: dict[str, LoadFailure],
    error: IntegrationError,
    path: Path,
    *,
    domain: str | None,
    manifest: IntegrationManifest | None = None,
    slot: str | None = None,
) -> None:
    failure = LoadFailure(key=error.key, message=error.message, path=path, domain=domain, manifest=manifest)
    # Keyed by domain when known, else folder name; a clash (two dirs, same bad folder) falls back to the path.
    slot = slot or domain or path.name
    failures[slot if slot not in failures else str(path)] = failure
    if isinstance(error, IntegrationImportError) and error.__cause__ is not None:
        log.error(error.key, domain=domain, path=str(path), error=error.message, exc_info=error.__cause__)
    else:
        log.warning(error.key, domain=domain, path=str(path), error=error.message)
