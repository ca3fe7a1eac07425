"""The ``http_fetch_url`` tool, built per entry from the entry's :class:`FetchConfig`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_ai.toolsets import FunctionToolset

from runtime.integrations import SetupContext

from .config import FetchConfig
from .fetcher import FetchedPage, fetch


def entry_config(ctx: SetupContext) -> FetchConfig:
    """The entry's configuration, validated by the same model the config form was."""
    return FetchConfig.model_validate(dict(ctx.data))


def build_toolset(config: FetchConfig) -> FunctionToolset:
    toolset: FunctionToolset = FunctionToolset()

    async def http_fetch_url(url: Annotated[str, Field(max_length=4096)]) -> FetchedPage:
        """Fetch a web page (http or https) and return its readable text: markup, scripts and styles removed.

        Only hosts on this connection's allow-list can be fetched. Long pages come back cut,
        with ``truncated`` set. Returns the final URL (after redirects), status, content type,
        title and text.
        """
        return await fetch(url, config)

    toolset.add_function(http_fetch_url, takes_ctx=False)
    return toolset
