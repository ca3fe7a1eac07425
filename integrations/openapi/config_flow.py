"""The config flow of ``openapi``: one form from :class:`OpenApiConfig`, checked by loading the document."""

from __future__ import annotations

from typing import Any

from runtime.integrations import ModelConfigFlow

from .config import OpenApiConfig
from .loader import load_api
from .spec import SpecError


class OpenApiConfigFlow(ModelConfigFlow):
    domain = "openapi"
    MODEL = OpenApiConfig
    TITLE = "OpenAPI"

    def title_for(self, data: dict[str, Any]) -> str:
        return str(data.get("spec_url") or data.get("base_url") or self.TITLE)

    async def validate(self, data: dict[str, Any]) -> str | None:
        try:
            await load_api(OpenApiConfig.model_validate(data), self.context.scope)
        except SpecError as exc:
            return exc.key
        return None
