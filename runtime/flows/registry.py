"""Where flows come from: Python registrations, YAML/JSON files, and integrations' ``flows()``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from ..logging import get_logger
from .functions import as_flow_function
from .model import FlowDefinition, FlowDefinitionError

log = get_logger(__name__)
MAX_FLOW_FILE_BYTES = 512 * 1024

_PYTHON_FLOWS: dict[str, FlowDefinition] = {}


def build_flow(raw: dict[str, Any] | FlowDefinition) -> FlowDefinition:
    """Validate a flow from a dict (as in YAML/JSON, functions may be callables) and import its handlers."""
    if isinstance(raw, FlowDefinition):
        flow = raw
    else:
        try:
            data = dict(raw)
            data["nodes"] = [
                {**node, "functions": [as_flow_function(f) for f in node.get("functions", [])]}
                for node in data.get("nodes", [])
            ]
            data["global_functions"] = [as_flow_function(f) for f in data.get("global_functions", [])]
            flow = FlowDefinition.model_validate(data)
        except FlowDefinitionError:
            raise
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'flow'}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise FlowDefinitionError(f"invalid flow definition: {problems}") from None
        except (ValueError, TypeError, AttributeError) as exc:
            raise FlowDefinitionError(f"invalid flow definition: {exc}") from None
    flow.check_handlers()
    return flow


def register_flow(raw: dict[str, Any] | FlowDefinition) -> FlowDefinition:
    flow = build_flow(raw)
    _PYTHON_FLOWS[flow.name] = flow
    return flow


def load_flow_file(path: Path) -> FlowDefinition:
    if path.stat().st_size > MAX_FLOW_FILE_BYTES:
        raise FlowDefinitionError(f"{path.name} is larger than {MAX_FLOW_FILE_BYTES} bytes")
    text = path.read_text()
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise FlowDefinitionError(f"{path.name} is not valid {path.suffix[1:].upper()}: {exc}") from None
    except RecursionError:
        raise FlowDefinitionError(f"{path.name} is nested too deeply") from None
    if not isinstance(raw, dict):
        raise FlowDefinitionError(f"{path.name} must hold a mapping")
    return build_flow(raw)


class FlowRegistry:
    def __init__(self, flows: Iterable[FlowDefinition] = ()) -> None:
        self._flows: dict[str, FlowDefinition] = {}
        for flow in flows:
            self.add(flow)

    def add(self, flow: FlowDefinition) -> None:
        if flow.name in self._flows:
            log.warning("flow_name_duplicate", flow=flow.name)
            return
        self._flows[flow.name] = flow

    def get(self, name: str) -> FlowDefinition:
        try:
            return self._flows[name]
        except KeyError:
            raise FlowDefinitionError(f"no flow named {name!r}", key="flow_unknown") from None

    def names(self) -> list[str]:
        return sorted(self._flows)

    @classmethod
    def collect(cls, integrations: Any = None, dirs: Iterable[Path] = ()) -> "FlowRegistry":
        """Python registrations first, then integrations' flows, then files; a bad one is logged and skipped."""
        registry = cls(_PYTHON_FLOWS.values())
        for loaded in list(integrations) if integrations is not None else []:
            try:
                for raw in loaded.integration.flows():
                    registry.add(build_flow(raw))
            except Exception as exc:
                log.warning("flow_load_failed", source=loaded.domain, error=str(exc)[:300])
        for directory in dirs:
            for path in sorted(Path(directory).glob("*")):
                if path.suffix not in (".yaml", ".yml", ".json"):
                    continue
                try:
                    registry.add(load_flow_file(path))
                except (FlowDefinitionError, OSError) as exc:
                    log.warning("flow_load_failed", source=str(path), error=str(exc)[:300])
        return registry
