from __future__ import annotations

import httpx
from pydantic import BaseModel
from pydantic_ai.toolsets import FunctionToolset

from runtime.integrations import SetupContext


class Hit(BaseModel):
    """One search hit: ``title`` and ``url``."""

    title: str
    url: str


def build_toolset(ctx: SetupContext) -> FunctionToolset:
    base = str(ctx.data.get("base_url") or "").rstrip("/")
    key = ctx.secrets.get("api_key") or ""
    ts = FunctionToolset()

    @ts.tool_plain
    async def myservice_search(query: str) -> list[Hit]:
        """Search My Service. Returns a list of Hit (title, url)."""
        async with httpx.AsyncClient(
            timeout=20.0, headers={"Authorization": f"Bearer {key}"}
        ) as client:
            resp = await client.get(f"{base}/api/search", params={"q": query})
            resp.raise_for_status()
            items = resp.json().get("results") or []
        return [Hit(title=i.get("title") or "", url=i.get("url") or "") for i in items]

    return ts
