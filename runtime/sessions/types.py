"""Types that cross the workflow/activity boundary. Ids, names and small results only: no secrets,
no toolset objects, no message lists (the transcript lives in Postgres).

Imported by workflow code, so: pydantic and runtime types only.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..principal import Principal
from .limits import MAX_MESSAGE_CHARS, MAX_REASON_CHARS


class SessionPolicy(BaseModel):
    """Timeouts of one session's activities, and how its turns run. A dead worker's activity is
    retried elsewhere after ``heartbeat_seconds`` without a heartbeat.

    ``local_activities`` is fixed per session by its input (it decides which commands the
    workflow issues). Its field default stays False because inputs recorded before it existed
    must replay as they ran; new sessions get :data:`NEW_SESSION_POLICY` (True) from
    ``start_session``.
    """

    heartbeat_seconds: float = Field(default=30.0, gt=0, le=600)
    model_timeout_seconds: float = Field(default=300.0, gt=0, le=3600)
    tool_timeout_seconds: float = Field(default=600.0, gt=0, le=86_400)
    local_activities: bool = Field(
        default=False, description="model steps and tool calls as local activities: fewer server round trips "
        "per turn; a dead worker's turn resumes after the workflow-task timeout instead of the heartbeat timeout")


NEW_SESSION_POLICY = SessionPolicy(local_activities=True)


class SessionInput(BaseModel):
    session_id: str = Field(min_length=1, max_length=200)
    principal: Principal
    model_profile: str = Field(min_length=1, max_length=100)
    instructions: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)
    policy: SessionPolicy = Field(default_factory=SessionPolicy)
    flow: str | None = None
    carry: "SessionCarry | None" = None


class FlowState(BaseModel):
    """Where a session stands in its conversation flow. Lives in the workflow, crosses continue-as-new."""

    name: str
    node: str
    state: dict[str, Any] = Field(default_factory=dict)
    history: list[str] = Field(default_factory=list)
    functions: dict[str, float | None] = Field(default_factory=dict, description="function name -> timeout_secs")
    respond_immediately: bool = True
    post_actions_pending: bool = False
    window_seq: int | None = Field(default=None, description="the model sees transcript rows after this seq")
    transitions: int = 0


class SessionCarry(BaseModel):
    """What a session takes across continue-as-new: counters and a short tail, nothing large."""

    next_turn: int = 1
    turns_completed: int = 0
    tool_calls: int = 0
    continued: int = 0
    tail: list["TranscriptLine"] = Field(default_factory=list)
    flow: FlowState | None = None


class SendMessage(BaseModel):
    text: str


class ToolCallView(BaseModel):
    tool_call_id: str
    tool_name: str
    entry_id: str | None = None
    domain: str | None = None
    approval_reason: str | None = Field(default=None, description="why this call needs approval; None if it does not")
    args_preview: str = ""
    kind: Literal["tool", "flow"] = "tool"


class ApprovalDecision(BaseModel):
    tool_call_id: str = Field(min_length=1, max_length=200)
    decision: Literal["approve", "deny"]
    reason: str | None = Field(default=None, max_length=MAX_REASON_CHARS)


class TurnStatus(str, Enum):
    COMPLETED = "completed"
    AWAITING_APPROVAL = "awaiting_approval"
    FAILED = "failed"


class TurnResult(BaseModel):
    turn: int
    status: TurnStatus
    text: str | None = None
    truncated: bool = False
    pending_approvals: list[ToolCallView] = Field(default_factory=list)
    tool_calls: list[ToolCallView] = Field(default_factory=list)
    error: str | None = None


class TranscriptLine(BaseModel):
    turn: int
    role: Literal["user", "assistant", "tool"]
    text: str


class SessionStatus(BaseModel):
    session_id: str
    model_profile: str
    state: Literal["idle", "running", "awaiting_approval", "ended"]
    turns_completed: int
    current_turn: int | None
    tool_calls: int
    continued: int
    pending_approvals: list[ToolCallView] = Field(default_factory=list)
    flow: FlowState | None = None


# -- activity inputs and outputs ------------------------------------------------


class ToolDenial(BaseModel):
    tool_call_id: str
    tool_name: str
    reason: str


class ToolFailure(BaseModel):
    """A call the workflow could not complete (e.g. a flow function past its timeout); the model is told."""

    tool_call_id: str
    tool_name: str
    message: str


class FlowStepContext(BaseModel):
    name: str
    node: str
    history: list[str] = Field(default_factory=list)
    window_seq: int | None = None


class ModelStepInput(BaseModel):
    session_id: str
    turn: int
    step: int
    principal: Principal
    model_profile: str
    instructions: str | None = None
    user_text: str | None = None
    denials: list[ToolDenial] = Field(default_factory=list)
    failures: list[ToolFailure] = Field(default_factory=list)
    flow: FlowStepContext | None = None


class ModelStepResult(BaseModel):
    text: str | None = None
    truncated: bool = False
    tool_calls: list[ToolCallView] = Field(default_factory=list)
    replayed: bool = Field(default=False, description="served from the transcript, the model was not called again")


class CallToolInput(BaseModel):
    session_id: str
    turn: int
    tool_call_id: str
    tool_name: str
    principal: Principal
    model_profile: str
    approved: bool = False


class ToolCallOutcome(BaseModel):
    tool_call_id: str
    ok: bool
    truncated: bool = False
    chars: int = 0
    error_key: str | None = None
    preview: str = ""
    replayed: bool = False


class FlowEnterInput(BaseModel):
    session_id: str
    principal: Principal
    model_profile: str
    flow: str
    node: str | None = Field(default=None, description="None enters the flow's initial node")
    transition: int = 0
    state: dict[str, Any] = Field(default_factory=dict)
    window_seq: int | None = None
    history: list[str] = Field(default_factory=list)
    turn: int | None = Field(default=None, description="the turn a function's transition happens in")
    step: int = 0


class FlowNodeInfo(BaseModel):
    node: str
    functions: dict[str, float | None]
    respond_immediately: bool
    has_post_actions: bool
    window_seq: int | None
    state: dict[str, Any]
    end_session: bool = False


class FlowCallInput(BaseModel):
    session_id: str
    turn: int
    tool_call_id: str
    tool_name: str
    principal: Principal
    flow: str
    node: str
    state: dict[str, Any] = Field(default_factory=dict)
    timeout_secs: float | None = None


class FlowCallOutcome(BaseModel):
    tool_call_id: str
    ok: bool
    next_node: str | None = None
    state: dict[str, Any] = Field(default_factory=dict)
    error_key: str | None = None
    preview: str = ""


class FlowActionsInput(BaseModel):
    session_id: str
    principal: Principal
    flow: str
    node: str
    state: dict[str, Any] = Field(default_factory=dict)


class FlowActionsOutcome(BaseModel):
    state: dict[str, Any] = Field(default_factory=dict)
    end_session: bool = False


class AssembleToolsInput(BaseModel):
    principal: Principal
    model_profile: str


class SessionRecord(BaseModel):
    session_id: str
    principal: Principal
    model_profile: str
    status: Literal["active", "ended"] = "active"


SessionInput.model_rebuild()
SessionCarry.model_rebuild()
