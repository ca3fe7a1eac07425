from __future__ import annotations

from typing import Any

from runtime.integrations import Integration as PersonalAgentIntegration, SetupContext

from .tools import build_toolset


class TextToolsIntegration(PersonalAgentIntegration):
    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        return [build_toolset()]


INTEGRATION = TextToolsIntegration()
