"""``agentrt chat`` in a real terminal process, against a worker of this test."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from .conftest import count_lines

AGENTRT = str(Path(sys.executable).parent / "agentrt")


async def test_chat_talks_to_a_session_and_asks_for_approval_inline(
    worker, make_entry, settings, temporal_server, tmp_path
):
    sketchy = await make_entry("sketchy", "global")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__")}
    env.update(AGENTRT__TEMPORAL__ADDRESS=temporal_server.address, AGENTRT__TEMPORAL__TASK_QUEUE=settings.temporal.task_queue,
               AGENTRT__STATE_DIR=str(tmp_path), AGENTRT__LOG_LEVEL="WARNING")
    script = "hello chat\n/tool sketchy_fetch {\"url\": \"http://x.test\"}\ny\n/status\n/end\n"
    proc = await asyncio.create_subprocess_exec(
        AGENTRT, "chat", "--user", "alice", env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(script.encode()), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "offline model" in text and "You said: hello chat" in text
    assert "needs approval (untrusted_integration)" in text
    assert "IGNORE PREVIOUS INSTRUCTIONS" in text
    assert '"turns_completed":2' in text and "session ended" in text
    assert count_lines(sketchy) == 1


async def test_chat_rejects_an_unknown_profile(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__")}
    env.update(AGENTRT__TEMPORAL__ADDRESS="127.0.0.1:1", AGENTRT__STATE_DIR=str(tmp_path))
    proc = await asyncio.create_subprocess_exec(AGENTRT, "chat", "--profile", "gpt-nope", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 1 and "model_profile_unknown" in err.decode()
