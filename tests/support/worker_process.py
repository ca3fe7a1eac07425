"""Run ``agentrt worker`` as a separate process, configured like a test's in-process services."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from runtime.settings import Settings

REPO = Path(__file__).resolve().parents[2]
AGENTRT = str(Path(sys.executable).parent / "agentrt")


def worker_env(settings: Settings, database_url: str, temporal_address: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__")}
    keys = {k: v.get_secret_value() for k, v in settings.security.keys.items()}
    env.update({
        "AGENTRT__TEMPORAL__ADDRESS": temporal_address,
        "AGENTRT__TEMPORAL__TASK_QUEUE": settings.temporal.task_queue,
        "AGENTRT__TEMPORAL__GRACEFUL_SHUTDOWN_SECONDS": "2",
        "AGENTRT__DATABASE__URL": database_url,
        "AGENTRT__DATABASE__MIGRATE_ON_START": "false",
        "AGENTRT__SECURITY__KEYS": json.dumps(keys),
        "AGENTRT__SECURITY__ACTIVE_KEK": settings.security.active_kek or "",
        "AGENTRT__INTEGRATIONS__EXTERNAL_DIRS": json.dumps([str(REPO / "tests" / "fixtures" / "integrations")]),
        "AGENTRT__INTEGRATIONS__ALLOW_EXTERNAL": "true",
        "AGENTRT__STATE_DIR": str(settings.state_dir),
        "AGENTRT__LOG_FORMAT": "json",
        "PYTHONPATH": str(REPO),
    })
    env.update(extra)
    return env


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen([AGENTRT, "worker"], env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
            if b"worker_started" in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def keys_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
