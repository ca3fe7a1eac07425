"""Find secret values in Temporal histories and logs, in the encodings they could hide in."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Iterable
from urllib.parse import quote, quote_plus

from temporalio.client import Client


def encodings(secret: str) -> set[str]:
    raw = secret.encode()
    return {
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
    }


def _decoded_strings(node: Any) -> Iterable[str]:
    """Every string in a proto-JSON tree, plus the decoded form of base64 payload data."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                try:
                    yield base64.b64decode(value, validate=True).decode("utf-8", "replace")
                except (binascii.Error, ValueError):
                    pass
            yield from _decoded_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _decoded_strings(item)
    elif isinstance(node, str):
        yield node


async def history_corpus(client: Client, query: str | None = None) -> tuple[str, int]:
    """All workflow histories visible to ``client`` (optionally filtered), as one searchable text."""
    parts: list[str] = []
    count = 0
    async for wf in client.list_workflows(query):
        history = await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        parts.extend(_decoded_strings(history.to_json_dict()))
        count += 1
    return "\n".join(parts), count


def find_leaks(secrets: Iterable[str], corpus: str) -> list[str]:
    return [f"{secret[:6]}… as {form[:12]}…" for secret in secrets for form in encodings(secret) if form in corpus]
