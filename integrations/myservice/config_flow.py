from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from runtime.integrations import FieldDescriptor, SimpleConfigFlow

SCHEMA = [
    FieldDescriptor(
        name="base_url",
        label="field.base_url.label",
        type="text",
        required=True,
        placeholder="field.base_url.placeholder",
    ),
    FieldDescriptor(
        name="api_key",
        label="field.api_key.label",
        type="secret",
        required=True,
    ),
]


class MyServiceConfigFlow(SimpleConfigFlow):
    domain = "myservice"
    SCHEMA = SCHEMA
    TITLE_FIELD = "base_url"

    async def validate(self, data: dict[str, Any]) -> str | None:
        # The tool builds f"{base_url}/api/search": anything but an absolute http(s) URL
        # would only fail later, at the first tool call, far from the form that caused it.
        url = urlsplit(str(data.get("base_url") or ""))
        if url.scheme not in ("http", "https") or not url.netloc:
            return "invalid_url"
        return None
