"""Call one handler: coroutine functions are awaited, plain functions run in a thread, both under a timeout.

Plain handlers get a bounded pool of their own: a plugin that hangs can tie up these
threads, not the default executor other code on the worker relies on. A thread cannot be
interrupted, so a timed-out plain handler runs on in the background until it returns; its
delivery has already been counted as a failed attempt.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

HANDLER_THREADS = 16
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="agentrt-handler")
    return _executor


def is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


async def call_handler(fn: Callable[..., Any], *args: Any, timeout: float) -> Any:
    """Run ``fn(*args)``; raises ``asyncio.TimeoutError`` after ``timeout`` seconds."""
    if is_async(fn):
        return await asyncio.wait_for(fn(*args), timeout)
    loop = asyncio.get_running_loop()
    result = await asyncio.wait_for(loop.run_in_executor(_pool(), functools.partial(fn, *args)), timeout)
    if inspect.isawaitable(result):  # a plain function that returned a coroutine
        result = await asyncio.wait_for(result, timeout)
    return result
