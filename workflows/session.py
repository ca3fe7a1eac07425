"""AgentSessionWorkflow: one long-running conversation.

The workflow is the agent loop: ask the model (an activity), run the tools it
asked for (activities), repeat until it answers. It holds ids, counters and a
short transcript tail; the messages live in Postgres, written by the
activities, so the history each turn adds stays the same size at turn 1 and
turn 1,000. Tool calls that need approval park the turn — for hours or days —
until ``decide_approval`` arrives.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from runtime.sessions.limits import MAX_MESSAGE_CHARS, MAX_STEPS_PER_TURN, TRANSCRIPT_TAIL, truncate
    from runtime.sessions.types import (
        ApprovalDecision,
        CallToolInput,
        FlowActionsInput,
        FlowActionsOutcome,
        FlowCallInput,
        FlowCallOutcome,
        FlowEnterInput,
        FlowNodeInfo,
        FlowState,
        FlowStepContext,
        ModelStepInput,
        ModelStepResult,
        SendMessage,
        SessionCarry,
        SessionInput,
        SessionStatus,
        ToolCallOutcome,
        ToolCallView,
        ToolDenial,
        ToolFailure,
        TranscriptLine,
        TurnResult,
        TurnStatus,
    )

MODEL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_attempts=6,
                          non_retryable_error_types=["model_profile_unknown", "model_profile_invalid"])
TOOL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_attempts=4,
                         non_retryable_error_types=["tool_call_unknown"])
FLOW_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3,
                         non_retryable_error_types=["tool_call_unknown", "flow_unknown", "flow_node_unknown"])
FLOW_FUNCTION_DEFAULT_TIMEOUT = 60.0
# The activity enforces a function's timeout_secs itself and reports it to the model; Temporal's
# deadline is the backstop for a worker that dies mid-call.
FLOW_FUNCTION_MARGIN = 15.0
SESSION_ENDED_REASON = "the session ended before a decision"


class SessionSummary(BaseModel):
    session_id: str
    turns_completed: int
    tool_calls: int
    continued: int


@workflow.defn
class AgentSessionWorkflow:
    @workflow.init
    def __init__(self, inp: SessionInput) -> None:
        carry = inp.carry or SessionCarry()
        self._inp = inp
        self._next_turn = carry.next_turn
        self._turns_completed = carry.turns_completed
        self._tool_calls = carry.tool_calls
        self._continued = carry.continued
        self._tail: list[TranscriptLine] = list(carry.tail)
        self._inbox: list[tuple[int, str]] = []
        self._results: dict[int, TurnResult] = {}
        self._stops: dict[int, int] = {}
        self._pending: dict[str, ToolCallView] = {}
        self._decisions: dict[str, ApprovalDecision] = {}
        self._current_turn: int | None = None
        self._ended = False
        self._end_after_turn = False
        self._flow: FlowState | None = carry.flow
        self._lock = asyncio.Lock()

    # -- the conversation ------------------------------------------------------
    @workflow.run
    async def run(self, inp: SessionInput) -> SessionSummary:
        if inp.flow and self._flow is None:
            await self._enter_node(None)
            self._ended = self._ended or self._end_after_turn
        while True:
            await workflow.wait_condition(lambda: bool(self._inbox) or self._ended)
            if self._inbox:
                turn, text = self._inbox.pop(0)
                await self._run_turn(turn, text)
                if self._end_after_turn:
                    self._ended = True
                if not self._inbox and not self._ended and workflow.info().is_continue_as_new_suggested():
                    await workflow.wait_condition(lambda: workflow.all_handlers_finished() or bool(self._inbox))
                    if not self._inbox:
                        self._continue_as_new()
                continue
            break
        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.execute_activity(
            "session_end", inp.session_id, start_to_close_timeout=timedelta(seconds=30)
        )
        return SessionSummary(session_id=inp.session_id, turns_completed=self._turns_completed,
                              tool_calls=self._tool_calls, continued=self._continued)

    def _continue_as_new(self) -> None:
        carry = SessionCarry(next_turn=self._next_turn, turns_completed=self._turns_completed,
                             tool_calls=self._tool_calls, continued=self._continued + 1, tail=self._tail,
                             flow=self._flow)
        workflow.continue_as_new(self._inp.model_copy(update={"carry": carry}))

    async def _run_turn(self, turn: int, text: str) -> None:
        self._current_turn = turn
        self._remember(turn, "user", text)
        seen: list[ToolCallView] = []
        denials: list[ToolDenial] = []
        failures: list[ToolFailure] = []
        try:
            for step in range(MAX_STEPS_PER_TURN):
                result: ModelStepResult = await self._turn_activity(
                    "session_model_step",
                    ModelStepInput(
                        session_id=self._inp.session_id, turn=turn, step=step, principal=self._inp.principal,
                        model_profile=self._inp.model_profile, instructions=self._inp.instructions,
                        user_text=text if step == 0 else None, denials=denials, failures=failures,
                        flow=self._flow_context(),
                    ),
                    result_type=ModelStepResult, timeout_seconds=self._inp.policy.model_timeout_seconds,
                    retry_policy=MODEL_RETRY,
                )
                if self._flow is not None and self._flow.post_actions_pending:
                    await self._post_actions()
                if not result.tool_calls:
                    self._turns_completed += 1
                    self._remember(turn, "assistant", result.text or "")
                    self._stop(turn, TurnResult(turn=turn, status=TurnStatus.COMPLETED, text=result.text,
                                                truncated=result.truncated, tool_calls=seen))
                    return
                seen.extend(result.tool_calls)
                approved = await self._await_approvals(turn, result.tool_calls, seen)
                denials = [
                    ToolDenial(tool_call_id=c.tool_call_id, tool_name=c.tool_name, reason=approved[c.tool_call_id].reason
                               or "no reason given")
                    for c in result.tool_calls
                    if c.tool_call_id in approved and approved[c.tool_call_id].decision == "deny"
                ]
                runnable = [c for c in result.tool_calls
                            if c.kind == "tool"
                            and (c.tool_call_id not in approved or approved[c.tool_call_id].decision == "approve")]
                flow_calls = [c for c in result.tool_calls if c.kind == "flow"]
                if not flow_calls:
                    await self._call_tools(turn, runnable)
                    continue
                # Every call of the step finishes before the flow moves to another node.
                _, (failures, next_node) = await asyncio.gather(
                    self._call_tools(turn, runnable), self._call_flow_functions(turn, flow_calls)
                )
                if next_node is not None:
                    await self._enter_node(next_node, turn=turn, step=step)
                    if not self._flow.respond_immediately:  # type: ignore[union-attr]
                        self._turns_completed += 1
                        self._stop(turn, TurnResult(turn=turn, status=TurnStatus.COMPLETED, tool_calls=seen))
                        return
            self._stop(turn, TurnResult(turn=turn, status=TurnStatus.FAILED, tool_calls=seen,
                                        error="too_many_steps: the model kept calling tools"))
        except ActivityError as err:
            cause = err.cause
            key = cause.type if isinstance(cause, ApplicationError) and cause.type else type(cause).__name__
            workflow.logger.warning("turn_failed", extra={"turn": turn, "error_key": key})
            self._stop(turn, TurnResult(turn=turn, status=TurnStatus.FAILED, tool_calls=seen, error=key))
        finally:
            self._current_turn = None

    async def _await_approvals(
        self, turn: int, calls: list[ToolCallView], seen: list[ToolCallView]
    ) -> dict[str, ApprovalDecision]:
        held = [c for c in calls if c.approval_reason]
        if not held:
            return {}
        self._pending = {c.tool_call_id: c for c in held}
        self._stop(turn, TurnResult(turn=turn, status=TurnStatus.AWAITING_APPROVAL, pending_approvals=held,
                                    tool_calls=list(seen)))
        await workflow.wait_condition(lambda: self._ended or all(i in self._decisions for i in self._pending))
        decided = {
            i: self._decisions.pop(i, None)
            or ApprovalDecision(tool_call_id=i, decision="deny", reason=SESSION_ENDED_REASON)
            for i in self._pending
        }
        self._pending = {}
        return decided

    def _turn_activity(self, name: str, arg: Any, *, result_type: type, timeout_seconds: float,
                       retry_policy: RetryPolicy) -> Any:
        """A model step or tool call: an activity, or with ``policy.local_activities`` a local one (no
        server round trip before and after it; both are idempotent by transcript key, so the re-run
        that follows a crashed worker repeats no model call and no tool)."""
        timeout = timedelta(seconds=timeout_seconds)
        if self._inp.policy.local_activities:
            return workflow.execute_local_activity(name, arg, result_type=result_type,
                                                   start_to_close_timeout=timeout, retry_policy=retry_policy)
        return workflow.execute_activity(name, arg, result_type=result_type, start_to_close_timeout=timeout,
                                         heartbeat_timeout=timedelta(seconds=self._inp.policy.heartbeat_seconds),
                                         retry_policy=retry_policy)

    async def _call_tools(self, turn: int, calls: list[ToolCallView]) -> list[ToolCallOutcome]:
        outcomes = await asyncio.gather(*(
            self._turn_activity(
                "session_call_tool",
                CallToolInput(session_id=self._inp.session_id, turn=turn, tool_call_id=c.tool_call_id,
                              tool_name=c.tool_name, principal=self._inp.principal,
                              model_profile=self._inp.model_profile, approved=c.approval_reason is not None),
                result_type=ToolCallOutcome, timeout_seconds=self._inp.policy.tool_timeout_seconds,
                retry_policy=TOOL_RETRY,
            )
            for c in calls
        ))
        self._tool_calls += len(calls)
        for outcome, call in zip(outcomes, calls):
            self._remember(turn, "tool", f"{call.tool_name}: {outcome.preview or outcome.error_key or ''}")
        return list(outcomes)

    # -- conversation flows ---------------------------------------------------------
    def _flow_context(self) -> FlowStepContext | None:
        if self._flow is None:
            return None
        return FlowStepContext(name=self._flow.name, node=self._flow.node, history=self._flow.history,
                               window_seq=self._flow.window_seq)

    async def _enter_node(self, node: str | None, *, turn: int | None = None, step: int = 0) -> None:
        previous = self._flow
        name = previous.name if previous else self._inp.flow
        assert name is not None
        info: FlowNodeInfo = await workflow.execute_activity(
            "flow_enter_node",
            FlowEnterInput(
                session_id=self._inp.session_id, principal=self._inp.principal, model_profile=self._inp.model_profile,
                flow=name, node=node, transition=previous.transitions + 1 if previous else 0,
                state=previous.state if previous else {}, window_seq=previous.window_seq if previous else None,
                history=previous.history if previous else [], turn=turn, step=step,
            ),
            result_type=FlowNodeInfo,
            start_to_close_timeout=timedelta(seconds=self._inp.policy.model_timeout_seconds),
            heartbeat_timeout=timedelta(seconds=self._inp.policy.heartbeat_seconds),
            retry_policy=FLOW_RETRY,
        )
        history = [*previous.history, previous.node] if previous else []
        self._flow = FlowState(
            name=name, node=info.node, state=info.state, history=history[-50:], functions=info.functions,
            respond_immediately=info.respond_immediately, post_actions_pending=info.has_post_actions,
            window_seq=info.window_seq, transitions=previous.transitions + 1 if previous else 0,
        )
        self._end_after_turn = self._end_after_turn or info.end_session

    async def _post_actions(self) -> None:
        flow = self._flow
        assert flow is not None
        flow.post_actions_pending = False
        outcome: FlowActionsOutcome = await workflow.execute_activity(
            "flow_post_actions",
            FlowActionsInput(session_id=self._inp.session_id, principal=self._inp.principal, flow=flow.name,
                             node=flow.node, state=flow.state),
            result_type=FlowActionsOutcome,
            start_to_close_timeout=timedelta(seconds=self._inp.policy.tool_timeout_seconds),
            retry_policy=FLOW_RETRY,
        )
        flow.state = outcome.state
        self._end_after_turn = self._end_after_turn or outcome.end_session

    async def _call_flow_functions(
        self, turn: int, calls: list[ToolCallView]
    ) -> tuple[list[ToolFailure], str | None]:
        flow = self._flow
        assert flow is not None
        results = await asyncio.gather(*(
            workflow.execute_activity(
                "flow_call_function",
                FlowCallInput(session_id=self._inp.session_id, turn=turn, tool_call_id=c.tool_call_id,
                              tool_name=c.tool_name, principal=self._inp.principal, flow=flow.name, node=flow.node,
                              state=flow.state, timeout_secs=flow.functions.get(c.tool_name)),
                result_type=FlowCallOutcome,
                schedule_to_close_timeout=timedelta(
                    seconds=(flow.functions.get(c.tool_name) or FLOW_FUNCTION_DEFAULT_TIMEOUT) + FLOW_FUNCTION_MARGIN
                ),
                heartbeat_timeout=timedelta(seconds=self._inp.policy.heartbeat_seconds),
                retry_policy=FLOW_RETRY,
            )
            for c in calls
        ), return_exceptions=True)
        failures: list[ToolFailure] = []
        next_node: str | None = None
        for call, outcome in zip(calls, results):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, ActivityError):
                    raise outcome
                failures.append(ToolFailure(tool_call_id=call.tool_call_id, tool_name=call.tool_name,
                                            message=f"{call.tool_name} did not complete"))
                self._remember(turn, "tool", f"{call.tool_name}: failed")
                continue
            flow.state.update(outcome.state)
            next_node = outcome.next_node or next_node
            self._remember(turn, "tool", f"{call.tool_name}: {outcome.preview or outcome.error_key or ''}")
        self._tool_calls += len(calls)
        return failures, next_node

    def _stop(self, turn: int, result: TurnResult) -> None:
        self._results[turn] = result
        self._stops[turn] = self._stops.get(turn, 0) + 1
        # Keep only recent results: updates for older turns have long returned.
        for old in [t for t in self._results if t < turn - 8]:
            del self._results[old]
            self._stops.pop(old, None)

    def _remember(self, turn: int, role: str, text: str) -> None:
        self._tail.append(TranscriptLine(turn=turn, role=role, text=truncate(text, 500)[0]))  # type: ignore[arg-type]
        del self._tail[:-TRANSCRIPT_TAIL]

    # -- handlers ----------------------------------------------------------------
    @workflow.update
    async def send_message(self, msg: SendMessage) -> TurnResult:
        async with self._lock:
            turn = self._next_turn
            self._next_turn += 1
            self._inbox.append((turn, msg.text))
        await workflow.wait_condition(lambda: turn in self._stops)
        return self._results[turn]

    @send_message.validator
    def _validate_message(self, msg: SendMessage) -> None:
        if self._ended:
            raise ValueError("session_ended: the session has ended")
        if not msg.text.strip():
            raise ValueError("message_empty: the message is empty")
        if len(msg.text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"message_too_large: {len(msg.text)} characters, the limit is {MAX_MESSAGE_CHARS}")

    @workflow.update
    async def decide_approval(self, decision: ApprovalDecision) -> TurnResult:
        turn = self._current_turn
        assert turn is not None  # the validator guarantees a pending call
        async with self._lock:
            stops_before = self._stops.get(turn, 0)
            self._decisions[decision.tool_call_id] = decision
            undecided = [c for i, c in self._pending.items() if i not in self._decisions]
        if undecided:
            current = self._results[turn]
            return current.model_copy(update={"pending_approvals": undecided})
        await workflow.wait_condition(lambda: self._stops.get(turn, 0) > stops_before)
        return self._results[turn]

    @decide_approval.validator
    def _validate_decision(self, decision: ApprovalDecision) -> None:
        if decision.tool_call_id not in self._pending:
            raise ValueError(f"approval_unknown: no pending tool call {decision.tool_call_id!r}")
        if decision.tool_call_id in self._decisions:
            raise ValueError(f"approval_already_decided: {decision.tool_call_id!r}")

    @workflow.signal
    def end(self) -> None:
        self._ended = True

    @workflow.query
    def status(self) -> SessionStatus:
        state = "ended" if self._ended else "awaiting_approval" if self._pending else (
            "running" if self._current_turn is not None or self._inbox else "idle")
        return SessionStatus(session_id=self._inp.session_id, model_profile=self._inp.model_profile, state=state,
                             turns_completed=self._turns_completed, current_turn=self._current_turn,
                             tool_calls=self._tool_calls, continued=self._continued,
                             pending_approvals=list(self._pending.values()), flow=self._flow)

    @workflow.query
    def pending_approvals(self) -> list[ToolCallView]:
        return [c for i, c in self._pending.items() if i not in self._decisions]

    @workflow.query
    def transcript_tail(self, limit: int = TRANSCRIPT_TAIL) -> list[TranscriptLine]:
        return self._tail[-max(1, min(limit, TRANSCRIPT_TAIL)):]
