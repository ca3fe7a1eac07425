"""Client side of a session: start it, talk to it, decide approvals. Used by the API, CLI and tests."""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from ..principal import Principal
from .types import (NEW_SESSION_POLICY, ApprovalDecision, SendMessage, SessionInput, SessionPolicy, SessionStatus,
                    TurnResult)

WORKFLOW_NAME = "AgentSessionWorkflow"


def session_workflow_id(session_id: str) -> str:
    return f"session:{session_id}"


async def start_session(
    client: Client,
    task_queue: str,
    session_id: str,
    principal: Principal,
    model_profile: str,
    instructions: str | None = None,
    policy: SessionPolicy | None = None,
    flow: str | None = None,
) -> WorkflowHandle:
    """Start (or attach to, if it already runs) the session's workflow."""
    return await client.start_workflow(
        WORKFLOW_NAME,
        SessionInput(session_id=session_id, principal=principal, model_profile=model_profile,
                     instructions=instructions, policy=policy or NEW_SESSION_POLICY, flow=flow),
        id=session_workflow_id(session_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


def session_handle(client: Client, session_id: str) -> WorkflowHandle:
    return client.get_workflow_handle(session_workflow_id(session_id))


async def send_message(handle: WorkflowHandle, text: str) -> TurnResult:
    return await handle.execute_update("send_message", SendMessage(text=text), result_type=TurnResult)


async def decide_approval(handle: WorkflowHandle, tool_call_id: str, approve: bool, reason: str | None = None) -> TurnResult:
    decision = ApprovalDecision(tool_call_id=tool_call_id, decision="approve" if approve else "deny", reason=reason)
    return await handle.execute_update("decide_approval", decision, result_type=TurnResult)


async def session_status(handle: WorkflowHandle) -> SessionStatus:
    return await handle.query("status", result_type=SessionStatus)
