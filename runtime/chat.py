"""``agentrt chat``: a terminal conversation with a session, approvals asked inline."""

from __future__ import annotations

import sys
import uuid
from typing import Callable, TextIO

from .principal import Principal
from .sessions.client import decide_approval, send_message, session_status, start_session
from .sessions.types import TurnResult, TurnStatus

HELP = "Type a message. /status shows the session, /end ends it, /quit leaves it running. Offline model: /tools, /tool NAME {json}."


def _print_result(result: TurnResult, out: TextIO) -> None:
    for call in result.tool_calls:
        out.write(f"  · tool {call.tool_name}({call.args_preview})\n")
    if result.status is TurnStatus.COMPLETED:
        out.write(f"assistant> {result.text or ''}\n")
    elif result.status is TurnStatus.FAILED:
        out.write(f"! turn {result.turn} failed: {result.error}\n")
    out.flush()


async def run_chat(
    client, task_queue: str, principal: Principal, profile: str, session_id: str | None,
    instructions: str | None = None, read: Callable[[str], str] = input, out: TextIO = sys.stdout,
) -> int:
    session_id = session_id or uuid.uuid4().hex
    handle = await start_session(client, task_queue, session_id, principal, profile, instructions)
    out.write(f"session {session_id} (profile {profile}, as {principal.sub}). {HELP}\n")
    out.flush()
    while True:
        try:
            text = read("you> ").strip()
        except EOFError:
            text = "/quit"
        if not text:
            continue
        if text == "/quit":
            out.write(f"left session {session_id} running; resume with --session {session_id}\n")
            return 0
        if text == "/end":
            await handle.signal("end")
            out.write("session ended\n")
            return 0
        if text == "/status":
            out.write(f"{(await session_status(handle)).model_dump_json()}\n")
            continue
        result = await send_message(handle, text)
        while result.status is TurnStatus.AWAITING_APPROVAL:
            for call in result.pending_approvals:
                out.write(f"? {call.tool_name}({call.args_preview}) needs approval ({call.approval_reason})\n")
                out.flush()
                try:
                    answer = read("approve? [y/N] ").strip().lower()
                except EOFError:
                    answer = "n"
                result = await decide_approval(handle, call.tool_call_id, approve=answer in ("y", "yes"),
                                               reason=None if answer in ("y", "yes") else "denied in agentrt chat")
                if result.status is not TurnStatus.AWAITING_APPROVAL:
                    break
        _print_result(result, out)
