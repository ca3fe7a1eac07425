"""History per turn stays flat as a session grows, because the transcript lives in Postgres."""

from __future__ import annotations

import pytest

from runtime.principal import Principal
from runtime.sessions.client import send_message, session_status

pytestmark = pytest.mark.slow
TURNS = 500


async def _size(handle) -> tuple[str, int]:
    history = await handle.fetch_history()
    return history.run_id, sum(e.ByteSize() for e in history.events)


async def test_history_bytes_per_turn_at_turn_500_stay_within_1_5x_of_turn_1(worker, open_session, services):
    handle = await open_session(Principal(sub="alice"), "offline")
    sizes: dict[int, tuple[str, int]] = {0: await _size(handle)}
    for turn in range(1, TURNS + 1):
        result = await send_message(handle, f"message number {turn}")
        assert result.turn == turn and f"message number {turn}" in result.text
        if turn in (1, 2) or turn >= TURNS - 3:
            sizes[turn] = await _size(handle)

    def per_turn(n: int) -> int:
        (run_a, before), (run_b, after) = sizes[n - 1], sizes[n]
        assert run_a == run_b, f"continue-as-new between turns {n - 1} and {n}"
        return after - before

    last = next(n for n in range(TURNS, TURNS - 3, -1) if sizes[n][0] == sizes[n - 1][0])
    first, second, late = per_turn(1), per_turn(2), per_turn(last)
    print(f"history bytes per turn: turn 1 {first}, turn 2 {second}, turn {last} {late}")
    assert late <= 1.5 * first and late <= 1.5 * second
    status = await session_status(handle)
    assert status.turns_completed == TURNS
    assert status.continued >= 1  # the session continued-as-new on Temporal's suggestion, and kept going
    session_id = handle.id.split(":", 1)[1]
    assert await services.transcript.count(session_id) == 2 * TURNS
