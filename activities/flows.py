"""Conversation-flow activities: enter a node, call a flow function, run post actions.

The workflow holds the flow's position and state; these activities hold the
definitions (handlers are code, looked up by flow and node name) and write
what the model must see into the transcript. Like the session activities they
are idempotent per transcript key.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError, create_model
from pydantic_ai.direct import model_request
from pydantic_ai.messages import ModelRequest, SystemPromptPart, TextPart, ToolReturnPart, UserPromptPart
from temporalio import activity
from temporalio.exceptions import ApplicationError

from runtime.errors import AgentrtError
from runtime.events import session_events
from runtime.events.outbox import insert_events
from runtime.flows.actions import run_actions
from runtime.flows.functions import FlowManagerHandle, call_handler
from runtime.flows.model import ContextStrategy, FlowDefinition, FlowFunction
from runtime.logging import get_logger, live_secrets
from runtime.sessions.limits import truncate
from runtime.sessions.tool_parts import render_result, retried
from runtime.sessions.types import (
    FlowActionsInput,
    FlowActionsOutcome,
    FlowCallInput,
    FlowCallOutcome,
    FlowEnterInput,
    FlowNodeInfo,
    ToolCallOutcome,
)

from .session import heartbeating

if TYPE_CHECKING:
    from runtime.services import Services

log = get_logger(__name__)
DEFAULT_FUNCTION_TIMEOUT = 60.0
SUMMARY_MESSAGE = "Summary of the conversation so far: {summary}"


def _flow(services: "Services", name: str) -> FlowDefinition:
    try:
        return services.flows.get(name)
    except AgentrtError as exc:
        raise ApplicationError(exc.message, type=exc.key, non_retryable=True) from None


def _task_part(role: str, content: str) -> Any:
    return UserPromptPart(content) if role == "user" else SystemPromptPart(content)


def _validate_args(fn: FlowFunction, args: dict[str, Any]) -> dict[str, Any]:
    """Required and unknown keys for every function; full type validation for direct functions."""
    unknown = sorted(set(args) - set(fn.properties))
    missing = sorted(set(fn.required) - set(args))
    if unknown or missing:
        raise ValueError(f"missing {missing}, unknown {unknown}" if missing else f"unknown arguments {unknown}")
    if fn.direct:
        hints = fn.resolved_handler().__annotations__  # type: ignore[union-attr]
        fields = {k: (hints.get(k, Any), ... if k in fn.required else None) for k in fn.properties}
        model = create_model(f"{fn.name}_args", **fields)  # type: ignore[call-overload]
        return model.model_validate(args).model_dump(exclude_unset=True)
    return args


class FlowActivities:
    def __init__(self, services: "Services") -> None:
        self.s = services

    @activity.defn(name="flow_enter_node")
    async def enter_node(self, inp: FlowEnterInput) -> FlowNodeInfo:
        flow = _flow(self.s, inp.flow)
        node = flow.node(inp.node or flow.initial_node)
        transcript = self.s.transcript
        key = f"flow:{inp.transition}:enter:{node.name}"
        if inp.transition == 0:
            await transcript.ensure_session(inp.session_id, inp.principal, inp.model_profile)
        window = inp.window_seq
        parts: list[Any] = []
        strategy = node.context_strategy.strategy
        if strategy is ContextStrategy.RESET_WITH_SUMMARY and inp.transition > 0:
            summary = await self._summarize(inp, node.context_strategy.summary_prompt or "")
            if summary is None:
                strategy = ContextStrategy.APPEND  # the documented fallback: keep the full context
            else:
                parts.append(SystemPromptPart(SUMMARY_MESSAGE.format(summary=summary)))
        parts.extend(_task_part(t.role, t.content) for t in node.task_messages)
        if strategy is not ContextStrategy.APPEND and inp.transition > 0:
            existing = await transcript.seq_of(inp.session_id, key)
            window = (existing - 1) if existing is not None else await transcript.last_seq(inp.session_id)
        if parts:
            await transcript.append(inp.session_id, key, 0, ModelRequest(parts=parts))
        manager = FlowManagerHandle(inp.session_id, node.name, dict(inp.state), inp.principal.sub)
        outcome = await run_actions(node.pre_actions, manager)
        if inp.turn is not None and not node.respond_immediately:
            # The workflow ends the turn on this node without a model answer: say so here, as the
            # model step does for an answered turn (the event key makes a retry emit nothing).
            async with self.s.ctx.pool.acquire() as conn:
                await insert_events(conn, [session_events.turn_complete(inp.session_id, inp.turn, steps=inp.step + 1)])
            self.s.events.wake()
        log.info("flow_node_entered", session_id=inp.session_id, flow=flow.name, node=node.name,
                 strategy=strategy.value, transition=inp.transition)
        return FlowNodeInfo(
            node=node.name,
            functions={f.name: f.timeout_secs for f in flow.functions_of(node.name).values()},
            respond_immediately=node.respond_immediately,
            has_post_actions=bool(node.post_actions),
            window_seq=window,
            state=manager.state,
            end_session=outcome.end_session,
        )

    async def _summarize(self, inp: FlowEnterInput, prompt: str) -> str | None:
        try:
            history = await self.s.transcript.history(inp.session_id, after_seq=inp.window_seq)
            request = ModelRequest(parts=[UserPromptPart(prompt)])
            async with heartbeating():
                response = await model_request(self.s.models.model(inp.model_profile), [*history, request])
            text = "\n".join(p.content for p in response.parts if isinstance(p, TextPart)).strip()
            return truncate(text, 4_000)[0] or None
        except Exception as exc:
            log.warning("flow_summary_failed", session_id=inp.session_id, error_type=type(exc).__name__)
            return None

    @activity.defn(name="flow_call_function")
    async def call_function(self, inp: FlowCallInput) -> FlowCallOutcome:
        transcript = self.s.transcript
        key = f"tool:{inp.tool_call_id}"
        done = await transcript.get(inp.session_id, key)
        if done is not None:
            meta = (done.metadata or {}).get("flow", {})
            return FlowCallOutcome(tool_call_id=inp.tool_call_id, ok=meta.get("ok", True),
                                   next_node=meta.get("next_node"), state=meta.get("state", inp.state),
                                   error_key=meta.get("error_key"))
        call = await transcript.find_tool_call(inp.session_id, inp.turn, inp.tool_call_id)
        if call is None:
            raise ApplicationError(f"tool call {inp.tool_call_id} is not in turn {inp.turn}", type="tool_call_unknown",
                                   non_retryable=True)
        flow = _flow(self.s, inp.flow)
        fn = flow.functions_of(inp.node).get(inp.tool_name)
        manager = FlowManagerHandle(inp.session_id, inp.node, dict(inp.state), inp.principal.sub)
        next_node: str | None = None
        error_key: str | None = None
        if fn is None:
            part: Any = retried(f"{inp.tool_name!r} is not available in this step of the conversation.",
                                tool_name=inp.tool_name, tool_call_id=inp.tool_call_id, cause="unavailable_tool")
            error_key = "flow_function_unavailable"
        else:
            timeout = inp.timeout_secs or DEFAULT_FUNCTION_TIMEOUT
            try:
                args = _validate_args(fn, call.args_as_dict())
                async with heartbeating():
                    result, next_node = await asyncio.wait_for(call_handler(fn, args, manager), timeout)
                if next_node is not None and next_node not in {n.name for n in flow.nodes}:
                    result = f"Error: the flow has no step named {next_node!r}."
                    error_key, next_node = "flow_node_unknown", None
                rendered = render_result("acknowledged" if result is None else result)
                if rendered.redacted:
                    log.warning("flow_function_result_secret_redacted", function=inp.tool_name)
                part = ToolReturnPart(inp.tool_name, rendered.content, tool_call_id=inp.tool_call_id)
            except (ValueError, ValidationError) as exc:
                error_key = "tool_args_invalid"
                part = retried(live_secrets.scrub(str(exc)[:1000]), tool_name=inp.tool_name,
                               tool_call_id=inp.tool_call_id, cause="validation_error")
            except asyncio.TimeoutError:
                error_key = "flow_function_timeout"
                part = ToolReturnPart(inp.tool_name, f"Error: {inp.tool_name} did not finish within {timeout:g} s.",
                                      tool_call_id=inp.tool_call_id)
            except Exception as exc:
                log.warning("flow_function_failed", function=inp.tool_name, error_type=type(exc).__name__,
                            exc_info=True)
                error_key = "flow_function_failed"
                part = ToolReturnPart(inp.tool_name, live_secrets.scrub(f"Error: {type(exc).__name__}: {str(exc)[:300]}"),
                                      tool_call_id=inp.tool_call_id)
        ok = error_key is None
        meta = {"flow": {"ok": ok, "next_node": next_node, "state": manager.state, "error_key": error_key}}
        preview = live_secrets.scrub((part.model_response_str() if isinstance(part, ToolReturnPart)
                                      else str(part.content))[:200])
        executed = ToolCallOutcome(tool_call_id=inp.tool_call_id, ok=ok, error_key=error_key, preview=preview)
        await transcript.append(inp.session_id, key, inp.turn, ModelRequest(parts=[part], metadata=meta),
                                events=[session_events.tool_executed(inp.session_id, inp.turn, inp.tool_name, executed,
                                                                     kind="flow")])
        self.s.events.wake()
        return FlowCallOutcome(tool_call_id=inp.tool_call_id, ok=ok, next_node=next_node, state=manager.state,
                               error_key=error_key, preview=preview)

    @activity.defn(name="flow_post_actions")
    async def post_actions(self, inp: FlowActionsInput) -> FlowActionsOutcome:
        node = _flow(self.s, inp.flow).node(inp.node)
        manager = FlowManagerHandle(inp.session_id, inp.node, dict(inp.state), inp.principal.sub)
        outcome = await run_actions(node.post_actions, manager)
        return FlowActionsOutcome(state=manager.state, end_session=outcome.end_session)
