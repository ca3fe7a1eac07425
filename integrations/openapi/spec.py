"""An OpenAPI 3 document -> a bounded list of operations, each with a JSON schema for its arguments.

Only operations with an ``operationId`` become tools. Path and query parameters become
properties; a JSON request body becomes the ``body`` property. Local ``$ref``s are
inlined up to a depth; a cycle (or anything deeper) becomes an unconstrained schema.
The document is untrusted input: the walk is bounded in depth and in nodes visited, so
a YAML alias bomb or a deeply nested schema cannot run away.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
MAX_REF_DEPTH = 12
MAX_NODES = 20_000
MAX_DESCRIPTION = 1000
TOOL_NAME = re.compile(r"[^a-zA-Z0-9_-]")
# OpenAPI-only keywords a JSON-schema consumer does not need (and some model APIs reject).
DROPPED_KEYWORDS = frozenset({"xml", "externalDocs", "example", "discriminator", "deprecated", "readOnly", "writeOnly"})


class SpecError(ValueError):
    """The document cannot be used; ``key`` is the flow's error key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" | "query"
    required: bool


@dataclass
class Operation:
    name: str
    method: str
    path: str
    description: str
    parameters: list[Parameter] = field(default_factory=list)
    body_key: str | None = None
    body_required: bool = False
    json_schema: dict[str, Any] = field(default_factory=dict)


def parse_document(text: str) -> dict[str, Any]:
    """JSON or YAML text -> an OpenAPI 3 document (a dict with ``openapi: 3.x``)."""
    try:
        document = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        raise SpecError("invalid_spec", "the document is neither valid JSON nor valid YAML") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise SpecError("invalid_spec", "the document has no paths")
    if not str(document.get("openapi", "")).startswith("3."):
        raise SpecError("unsupported_version", "only OpenAPI 3.x documents are supported")
    return document


def base_url_of(document: dict[str, Any], spec_url: str | None, override: str | None) -> str:
    """Where calls go: the override, else the first server (variables at their defaults, relative
    URLs resolved against the document's URL); OpenAPI's default server is ``/``."""
    if override:
        return override.rstrip("/")
    servers = document.get("servers") or [{"url": "/"}]
    server = servers[0] if isinstance(servers, list) and isinstance(servers[0], dict) else {"url": "/"}
    url = str(server.get("url") or "/")
    for name, variable in (server.get("variables") or {}).items():
        if isinstance(variable, dict) and "default" in variable:
            url = url.replace("{" + str(name) + "}", str(variable["default"]))
    if not url.startswith(("http://", "https://")):
        if not spec_url:
            raise SpecError("no_base_url", "the document's server URL is relative and there is no URL to resolve it against")
        url = urljoin(spec_url, url)
    return url.rstrip("/")


class _Resolver:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.nodes = 0

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            return None  # remote refs are not fetched: the schema stays unconstrained
        node: Any = self.document
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                return None
            node = node[token]
        return node

    def inline(self, node: Any, depth: int = 0, seen: tuple[str, ...] = ()) -> Any:
        """``node`` with local refs inlined, bounded by depth, cycles and a global node budget."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SpecError("spec_too_complex", f"the schemas have more than {MAX_NODES} nodes")
        if depth > MAX_REF_DEPTH * 4:
            return {}
        if isinstance(node, list):
            return [self.inline(item, depth + 1, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen or len(seen) >= MAX_REF_DEPTH:
                return {}
            target = self.pointer(ref)
            return {} if target is None else self.inline(target, depth + 1, (*seen, ref))
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in DROPPED_KEYWORDS:
                continue
            out[key] = self.inline(value, depth + 1, seen)
        if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]  # OpenAPI 3.0's nullable, as JSON schema says it
        return out


def _description(operation: dict[str, Any], method: str, path: str) -> str:
    parts = [str(operation.get(k) or "").strip() for k in ("summary", "description")]
    text = "\n\n".join(p for p in parts if p) or f"{method.upper()} {path}"
    return text[:MAX_DESCRIPTION]


def _operation(resolver: _Resolver, name: str, method: str, path: str, path_item: dict[str, Any],
               operation: dict[str, Any]) -> Operation:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(path_item.get("parameters") or []), *(operation.get("parameters") or [])]:
        param = resolver.inline(raw)
        if isinstance(param, dict) and param.get("in") in ("path", "query") and param.get("name"):
            merged[(str(param["name"]), str(param["in"]))] = param  # operation-level wins
    properties: dict[str, Any] = {}
    required: list[str] = []
    parameters: list[Parameter] = []
    for (pname, location), param in merged.items():
        schema = dict(param.get("schema") or {})
        if param.get("description") and "description" not in schema:
            schema["description"] = str(param["description"])[:MAX_DESCRIPTION]
        is_required = location == "path" or bool(param.get("required"))
        properties[pname] = schema
        parameters.append(Parameter(pname, location, is_required))
        if is_required:
            required.append(pname)
    op = Operation(name=name, method=method, path=path, description=_description(operation, method, path),
                   parameters=parameters)
    body = resolver.inline(operation.get("requestBody") or {})
    json_body = (body.get("content") or {}).get("application/json") if isinstance(body, dict) else None
    if isinstance(json_body, dict):
        op.body_key = "body" if "body" not in properties else "request_body"
        properties[op.body_key] = json_body.get("schema") or {}
        op.body_required = bool(body.get("required"))
        if op.body_required:
            required.append(op.body_key)
    op.json_schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        op.json_schema["required"] = required
    return op


def operations(document: dict[str, Any], limit: int) -> tuple[list[Operation], int]:
    """The first ``limit`` operations with an operationId, in document order; and how many there were."""
    resolver = _Resolver(document)
    found: list[Operation] = []
    names: set[str] = set()
    total = 0
    for path, path_item in document["paths"].items():
        if not isinstance(path_item, dict):
            continue
        for method in METHODS:
            operation = path_item.get(method)
            if not isinstance(operation, dict) or not operation.get("operationId"):
                continue
            name = TOOL_NAME.sub("_", str(operation["operationId"]))[:64]
            if name in names:
                continue  # a duplicate operationId is a broken document; the first one stands
            names.add(name)
            total += 1
            if len(found) < limit:
                found.append(_operation(resolver, name, method, str(path), path_item, operation))
    return found, total
