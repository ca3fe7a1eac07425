"""The baseline: pydantic-ai's own Temporal durable execution, used the way its docs describe.

One ``Agent`` with the ``TemporalDurability`` capability (``TemporalAgent`` is deprecated in
pydantic-ai 2.68), the same ``FunctionModel`` behaviour and the same tool body as agentrt's
``bench_echo`` integration, registered through ``PydanticAIPlugin`` on client and worker.

Two workflows:

* :class:`BaselineRunWorkflow` — one agent run per workflow (the shape pydantic-ai documents);
* :class:`BaselineSessionWorkflow` — a conversation as one workflow holding the message list in
  workflow state, an update per turn, continue-as-new between turns when Temporal suggests it
  (carrying the message list, the only way this design can continue).

This module is a workflow module: the sandbox re-imports it for every workflow run, exactly as
it would an application's module that builds its agent at import time.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field
    from pydantic_ai import Agent
    from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow, TemporalDurability
    from pydantic_ai.messages import ModelMessage

    from bench.models import echo_text, model

AGENT_NAME = "bench_baseline"

agent = Agent(
    model(),
    name=AGENT_NAME,
    capabilities=[TemporalDurability(activity_config={"start_to_close_timeout": timedelta(seconds=60)})],
)


@agent.tool_plain
def echo(text: str) -> str:
    """Echo the text back."""
    return echo_text(text)


class BaselineSessionInput(BaseModel):
    messages: list[ModelMessage] = Field(default_factory=list)
    turns: int = 0
    continued: int = 0


@workflow.defn
class BaselineRunWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    @workflow.run
    async def run(self, prompt: str) -> str:
        result = await agent.run(prompt)
        return result.output


@workflow.defn
class BaselineSessionWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    @workflow.init
    def __init__(self, inp: BaselineSessionInput) -> None:
        self._messages: list[ModelMessage] = list(inp.messages)
        self._turns = inp.turns
        self._continued = inp.continued
        self._busy = False
        self._ended = False

    @workflow.run
    async def run(self, inp: BaselineSessionInput) -> int:
        while True:
            await workflow.wait_condition(
                lambda: self._ended or (not self._busy and workflow.info().is_continue_as_new_suggested())
            )
            if self._ended:
                return self._turns
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                BaselineSessionInput(messages=self._messages, turns=self._turns, continued=self._continued + 1)
            )

    @workflow.update
    async def send_message(self, text: str) -> str:
        await workflow.wait_condition(lambda: not self._busy)
        self._busy = True
        try:
            result = await agent.run(text, message_history=self._messages)
            self._messages = result.all_messages()
            self._turns += 1
            return result.output
        finally:
            self._busy = False

    @workflow.query
    def continued(self) -> int:
        return self._continued

    @workflow.signal
    def end(self) -> None:
        self._ended = True


BASELINE_WORKFLOWS = [BaselineRunWorkflow, BaselineSessionWorkflow]
