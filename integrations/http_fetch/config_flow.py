"""The one-form config flow of ``http_fetch``: the form comes from :class:`FetchConfig`."""

from __future__ import annotations

from typing import Any

from runtime.integrations import ModelConfigFlow

from .config import FetchConfig


class HttpFetchConfigFlow(ModelConfigFlow):
    domain = "http_fetch"
    MODEL = FetchConfig
    TITLE = "HTTP Fetch"

    async def validate(self, data: dict[str, Any]) -> str | None:
        # Reaching private networks from the worker is an operator's decision: a user's own
        # entry must not turn the fetch tool into a probe of the internal network.
        if data.get("allow_private_networks") and self.context.scope == "user":
            return "private_networks_need_admin"
        return None
