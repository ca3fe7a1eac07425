"""Any HTTP API described by an OpenAPI 3 document, one tool per operation. Untrusted: calls wait for approval."""

from __future__ import annotations

from typing import Any

from runtime.integrations import Integration, SetupContext
from runtime.logging import get_logger

from .config import OpenApiConfig
from .config_flow import OpenApiConfigFlow
from .loader import load_api
from .tools import build_toolset

log = get_logger(__name__)


class OpenApiIntegration(Integration):
    config_flow_cls = OpenApiConfigFlow

    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        config = OpenApiConfig.model_validate({**ctx.data, **ctx.secrets})
        api = await load_api(config, ctx.scope)
        if api.total_operations > len(api.operations):
            log.warning("openapi_operations_capped", entry_id=ctx.entry_id, total=api.total_operations,
                        kept=len(api.operations))
        log.info("openapi_entry_set_up", entry_id=ctx.entry_id, operations=len(api.operations))
        return [build_toolset(api.operations, api.base_url, config)]


INTEGRATION = OpenApiIntegration()
