"""Session activities: one model request, one tool call. Both idempotent under retry.

A retried activity (the worker died after the work but before Temporal heard)
finds its own earlier write in the transcript and returns it: a completed model
request or tool call is never run twice. Inputs and outputs are ids, names and
short previews; the messages themselves stay in Postgres.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator

from pydantic import ValidationError
from pydantic_ai.direct import model_request
from pydantic_ai.exceptions import ModelRetry
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.tools import ToolDefinition
from temporalio import activity
from temporalio.exceptions import ApplicationError

from runtime.errors import AgentrtError
from runtime.events import session_events
from runtime.events.completion import CompletionService
from runtime.events.outbox import NewEvent
from runtime.logging import get_logger, live_secrets
from runtime.sessions.catalog import ToolCatalog
from runtime.sessions.limits import MAX_FINAL_TEXT_CHARS, truncate
from runtime.sessions.setup_cache import tool_run_context
from runtime.sessions.tool_parts import render_result, retried
from runtime.sessions.types import (
    AssembleToolsInput,
    CallToolInput,
    ModelStepInput,
    ModelStepResult,
    ToolCallOutcome,
    ToolCallView,
)

if TYPE_CHECKING:
    from runtime.services import Services

log = get_logger(__name__)
PREVIEW_CHARS = 200


def _preview(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return live_secrets.scrub(truncate(text, PREVIEW_CHARS)[0])


@asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat while a long await runs, so a dead worker's activity is retried elsewhere within
    the heartbeat timeout instead of the (much longer) start-to-close timeout."""
    if activity.info().is_local:  # local activities cannot heartbeat; the workflow task covers them
        yield
        return
    timeout = activity.info().heartbeat_timeout
    interval = max(0.2, timeout.total_seconds() / 3) if timeout else 10.0

    async def beat() -> None:
        # The heartbeat timeout runs from the activity's start, so the first beat can wait one
        # interval: a model request or tool call that finishes sooner sends none at all.
        while True:
            await asyncio.sleep(interval)
            activity.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


def _non_retryable(exc: AgentrtError) -> ApplicationError:
    return ApplicationError(exc.message, type=exc.key, non_retryable=True)


def _with_instructions(messages: list[Any], instructions: str | None) -> list[Any]:
    if not instructions:
        return messages
    # pydantic-ai reads instructions from the latest request; set them on every request we send.
    return [
        ModelRequest(parts=m.parts, instructions=instructions) if isinstance(m, ModelRequest) else m for m in messages
    ]


class SessionActivities:
    def __init__(self, services: "Services") -> None:
        self.s = services

    @activity.defn(name="session_model_step")
    async def model_step(self, inp: ModelStepInput) -> ModelStepResult:
        s = self.s
        response_key = f"{inp.turn}:{inp.step}:response"
        try:
            assembled = await s.assembler.assemble(inp.principal, inp.model_profile)
        except AgentrtError as exc:
            raise _non_retryable(exc) from None
        done = await s.transcript.get(inp.session_id, response_key)
        if isinstance(done, ModelResponse):
            flow_names = {t.name for t in self._flow_view(inp)[0]}
            s.events.wake()  # the earlier attempt may have died between its commit and its wake-up
            return self._result(done, assembled.catalog, replayed=True, flow_names=flow_names)

        if inp.turn == 1 and inp.step == 0:
            await s.transcript.ensure_session(inp.session_id, inp.principal, inp.model_profile)
        if inp.step == 0 and inp.user_text is not None:
            await s.transcript.append(
                inp.session_id, f"{inp.turn}:0:prompt", inp.turn, ModelRequest(parts=[UserPromptPart(inp.user_text)]),
                events=[session_events.message_received(inp.session_id, inp.turn, inp.user_text)],
            )
            s.events.wake()
        synthetic: list[tuple[str, str, str, list[NewEvent]]] = [
            (d.tool_call_id, d.tool_name, f"The user denied this tool call. Reason: {d.reason}",
             [session_events.approval_decided(inp.session_id, inp.turn, d.tool_call_id, d.tool_name, "deny", d.reason)])
            for d in inp.denials
        ] + [(f.tool_call_id, f.tool_name, f"Error: {f.message}", []) for f in inp.failures]
        for tool_call_id, tool_name, content, events in synthetic:
            part = ToolReturnPart(tool_name, content, tool_call_id=tool_call_id)
            await s.transcript.append(inp.session_id, f"tool:{tool_call_id}", inp.turn, ModelRequest(parts=[part]),
                                      events=events)

        flow_tools, instructions = self._flow_view(inp)
        window = inp.flow.window_seq if inp.flow else None
        history = _with_instructions(await s.transcript.history(inp.session_id, after_seq=window), instructions)
        flow_names = {t.name for t in flow_tools}
        tools = flow_tools + [t for t in assembled.catalog.tool_definitions() if t.name not in flow_names]
        params = ModelRequestParameters(function_tools=tools)
        try:
            model = s.models.model(inp.model_profile)
        except AgentrtError as exc:
            raise _non_retryable(exc) from None
        async with heartbeating():
            response = await model_request(model, history, model_request_parameters=params)
        result = self._result(response, assembled.catalog, replayed=False, flow_names=flow_names)
        await s.transcript.append(inp.session_id, response_key, inp.turn, response,
                                  events=self._step_events(inp, result))
        s.events.wake()
        log.info("model_step_done", session_id=inp.session_id, turn=inp.turn, step=inp.step,
                 tools=len(assembled.catalog.tools), tool_calls=sum(isinstance(p, ToolCallPart) for p in response.parts))
        return result

    @staticmethod
    def _step_events(inp: ModelStepInput, result: ModelStepResult) -> list[NewEvent]:
        """What one model response tells subscribers: calls held for approval, or the turn's answer."""
        if result.tool_calls:
            return [session_events.approval_requested(inp.session_id, inp.turn, c)
                    for c in result.tool_calls if c.approval_reason]
        return [session_events.final_answer(inp.session_id, inp.turn, result.text),
                session_events.turn_complete(inp.session_id, inp.turn, steps=inp.step + 1)]

    def _flow_view(self, inp: ModelStepInput) -> tuple[list[ToolDefinition], str | None]:
        """The current node's functions as tool definitions, and the role message in force."""
        if inp.flow is None:
            return [], inp.instructions
        try:
            flow = self.s.flows.get(inp.flow.name)
        except AgentrtError as exc:
            raise _non_retryable(exc) from None
        tools = [
            ToolDefinition(name=f.name, description=f.description, parameters_json_schema=f.parameters_json_schema())
            for f in flow.functions_of(inp.flow.node).values()
        ]
        role = next(
            (flow.node(n).role_message for n in reversed([*inp.flow.history, inp.flow.node]) if flow.node(n).role_message),
            None,
        )
        return tools, "\n\n".join(p for p in (inp.instructions, role) if p) or None

    def _result(
        self, response: ModelResponse, catalog: Any, *, replayed: bool, flow_names: set[str] = frozenset()
    ) -> ModelStepResult:
        specs = catalog.by_name()
        calls = []
        for part in response.parts:
            if isinstance(part, ToolCallPart):
                is_flow = part.tool_name in flow_names
                spec = None if is_flow else specs.get(part.tool_name)
                calls.append(
                    ToolCallView(
                        tool_call_id=part.tool_call_id,
                        tool_name=part.tool_name,
                        entry_id=spec.entry_id if spec else None,
                        domain=spec.domain if spec else None,
                        approval_reason=spec.approval_reason if spec else None,
                        args_preview=_preview(part.args_as_json_str()),
                        kind="flow" if is_flow else "tool",
                    )
                )
        texts = [p.content for p in response.parts if isinstance(p, TextPart)]
        text, cut = truncate("\n".join(texts), MAX_FINAL_TEXT_CHARS) if texts else (None, False)
        return ModelStepResult(text=text, truncated=cut, tool_calls=calls, replayed=replayed)

    @activity.defn(name="session_call_tool")
    async def call_tool(self, inp: CallToolInput) -> ToolCallOutcome:
        s = self.s
        key = f"tool:{inp.tool_call_id}"
        done = await s.transcript.get(inp.session_id, key)
        if done is not None:
            return self._outcome_of(inp.tool_call_id, done, replayed=True)
        call = await s.transcript.find_tool_call(inp.session_id, inp.turn, inp.tool_call_id)
        if call is None:
            raise ApplicationError(f"tool call {inp.tool_call_id} is not in turn {inp.turn}", type="tool_call_unknown",
                                   non_retryable=True)
        try:
            assembled = await s.assembler.assemble(inp.principal, inp.model_profile)
        except AgentrtError as exc:
            raise _non_retryable(exc) from None

        # Defence in depth: the workflow already decided, but the gates and approval are checked again here.
        binding = assembled.bindings.get(call.tool_name)
        if binding is None:
            part: Any = retried(f"Tool {call.tool_name!r} is not available to you.", tool_name=call.tool_name,
                                tool_call_id=inp.tool_call_id, cause="unavailable_tool")
            outcome = ToolCallOutcome(tool_call_id=inp.tool_call_id, ok=False, error_key="tool_unavailable")
        elif binding.spec.approval_reason and not inp.approved:
            part = ToolReturnPart(call.tool_name, "This tool call was not approved and did not run.",
                                  tool_call_id=inp.tool_call_id)
            outcome = ToolCallOutcome(tool_call_id=inp.tool_call_id, ok=False, error_key="approval_missing")
        else:
            part, outcome = await self._run(binding, call, inp)
        spec = binding.spec if binding is not None else None
        events = [session_events.tool_executed(inp.session_id, inp.turn, call.tool_name, outcome,
                                               entry_id=spec.entry_id if spec else None,
                                               domain=spec.domain if spec else None)]
        if inp.approved:
            events.insert(0, session_events.approval_decided(inp.session_id, inp.turn, inp.tool_call_id,
                                                             call.tool_name, "approve"))
        await s.transcript.append(inp.session_id, key, inp.turn, ModelRequest(parts=[part]), events=events)
        s.events.wake()
        return outcome

    async def _run(self, binding: Any, call: ToolCallPart, inp: CallToolInput) -> tuple[Any, ToolCallOutcome]:
        ctx = tool_run_context(binding.spec.original_name, inp.tool_call_id)
        try:
            args = binding.tool.args_validator.validate_python(call.args_as_dict())
        except ValidationError as exc:
            # pydantic-ai's stored form of a validation retry needs each error's input (the model's own argument).
            errors = exc.errors(include_url=False, include_context=False)
            return (
                retried(errors, tool_name=call.tool_name, tool_call_id=inp.tool_call_id, cause="validation_error"),
                ToolCallOutcome(tool_call_id=inp.tool_call_id, ok=False, error_key="tool_args_invalid"),
            )
        try:
            async with heartbeating():
                result = await binding.toolset.call_tool(binding.spec.original_name, args, ctx, binding.tool)
        except ModelRetry as exc:
            return (
                retried(live_secrets.scrub(str(exc)), tool_name=call.tool_name, tool_call_id=inp.tool_call_id,
                        cause="model_retry"),
                ToolCallOutcome(tool_call_id=inp.tool_call_id, ok=False, error_key="tool_retry"),
            )
        except Exception as exc:
            log.warning("tool_failed", tool=call.tool_name, entry_id=binding.spec.entry_id, error_type=type(exc).__name__,
                        exc_info=True)
            message = live_secrets.scrub(f"The tool failed: {type(exc).__name__}: {str(exc)[:500]}")
            return (
                retried(message, tool_name=call.tool_name, tool_call_id=inp.tool_call_id, cause="model_retry"),
                ToolCallOutcome(tool_call_id=inp.tool_call_id, ok=False, error_key="tool_failed"),
            )
        rendered = render_result(result)
        if rendered.redacted:
            log.warning("tool_result_secret_redacted", tool=call.tool_name, entry_id=binding.spec.entry_id)
        log.info("tool_executed", tool=call.tool_name, entry_id=binding.spec.entry_id, chars=len(rendered.text),
                 truncated=rendered.truncated)
        return (
            ToolReturnPart(call.tool_name, rendered.content, tool_call_id=inp.tool_call_id),
            ToolCallOutcome(tool_call_id=inp.tool_call_id, ok=True, truncated=rendered.truncated,
                            chars=len(rendered.text), preview=_preview(rendered.capped)),
        )

    def _outcome_of(self, tool_call_id: str, message: Any, *, replayed: bool) -> ToolCallOutcome:
        part = message.parts[0]
        if isinstance(part, ToolReturnPart):
            text = part.model_response_str()
            return ToolCallOutcome(tool_call_id=tool_call_id, ok=True, chars=len(text), preview=_preview(text),
                                   replayed=replayed)
        return ToolCallOutcome(tool_call_id=tool_call_id, ok=False, error_key="tool_failed", replayed=replayed)

    @activity.defn(name="assemble_tools")
    async def assemble_tools(self, inp: AssembleToolsInput) -> ToolCatalog:
        """The catalog a principal's run would get. ``model_step`` assembles the same way itself
        (one activity instead of two per model request); this one serves previews and audits."""
        try:
            return (await self.s.assembler.assemble(inp.principal, inp.model_profile)).catalog
        except AgentrtError as exc:
            raise _non_retryable(exc) from None

    @activity.defn(name="session_end")
    async def end(self, session_id: str) -> None:
        await self.s.transcript.end_session(session_id, events=[session_events.session_ended(session_id)])
        self.s.events.wake()
        if CompletionService(self.s).active():  # observers' snapshots and completions run after the session
            await self.s.events.start_completion(activity.client(), activity.info().task_queue, session_id)
