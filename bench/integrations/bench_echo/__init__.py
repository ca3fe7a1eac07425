"""Benchmark integration: one tool, the same body the pydantic-ai baseline's tool runs."""

from __future__ import annotations

from typing import Any

from pydantic_ai.toolsets import FunctionToolset

from bench.models import echo_text
from runtime.integrations import Integration, SetupContext


class BenchEchoIntegration(Integration):
    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        toolset = FunctionToolset()

        @toolset.tool_plain
        def echo(text: str) -> str:
            """Echo the text back."""
            return echo_text(text)

        return [toolset]


INTEGRATION = BenchEchoIntegration()
