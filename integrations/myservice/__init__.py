from __future__ import annotations

from typing import Any

from runtime.integrations import Integration as PersonalAgentIntegration, SetupContext

from .config_flow import MyServiceConfigFlow
from .tools import build_toolset


class MyServiceIntegration(PersonalAgentIntegration):
    config_flow_cls = MyServiceConfigFlow

    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        return [build_toolset(ctx)]


INTEGRATION = MyServiceIntegration()
