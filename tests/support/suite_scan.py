"""The suite-wide secret-leak scan.

Every plaintext the suite stores through ``SecretStore.put`` (and every
``distinctive_secret``) is recorded. When the session ends, every workflow
history on the session's Temporal server and every log the suite produced —
the in-process log stream and the log files of worker subprocesses and dev
stacks — is searched for each of them in plain, base64, hex and URL-encoded
form. Any hit fails the run.
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from runtime.crypto.store import SecretStore
from runtime.logging import build_formatter

from .leaks import find_leaks, history_corpus

MIN_SCANNED_LENGTH = 8  # shorter test values ("x", "abc") would match by chance
MAX_LOG_FILE_BYTES = 64 * 1024 * 1024


class SecretRecorder:
    def __init__(self) -> None:
        self.values: set[str] = set()
        self._original = None
        self._paused = 0

    @contextmanager
    def paused(self) -> Iterator[None]:
        """For fuzzers: their generated "secrets" are not secret (Hypothesis even mines string literals from
        the code under test, so a generated value can equal ordinary log text)."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def record(self, value: object) -> None:
        if self._paused:
            return
        text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        if isinstance(text, str) and text.startswith('"'):
            # The flow store seals values as JSON; the secret is the string inside the quotes.
            try:
                text = json.loads(text)
            except ValueError:
                pass
        if isinstance(text, str) and len(text) >= MIN_SCANNED_LENGTH:
            self.values.add(text)

    def install(self) -> None:
        original = self._original = SecretStore.put
        recorder = self

        async def put(store, conn, owner_kind, owner_id, values):  # type: ignore[no-untyped-def]
            for value in values.values():
                recorder.record(value)
            return await original(store, conn, owner_kind, owner_id, values)

        SecretStore.put = put  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            SecretStore.put = self._original  # type: ignore[method-assign]


def suite_log_handler(path: Path) -> logging.Handler:
    """A handler that survives per-test logging reconfiguration and renders exactly like production."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(build_formatter("json"))
    return handler


def log_files(roots: Iterable[Path]) -> list[Path]:
    found = []
    for root in roots:
        if root.exists():
            found += [p for p in root.rglob("*.log") if p.is_file() and p.stat().st_size <= MAX_LOG_FILE_BYTES]
            found += [p for p in root.rglob("log") if p.is_file() and p.stat().st_size <= MAX_LOG_FILE_BYTES]
    return sorted(set(found))


def _where(secrets: set[str], files: list[Path]) -> list[str]:
    """For each hit in a log file: the file and the log line around it, the secret itself masked."""
    from .leaks import encodings

    found = []
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            for secret in secrets:
                for form in encodings(secret):
                    if form in line:
                        found.append(f"{path.name}: {line.replace(form, '<SECRET>')[:400]}")
    return found


async def scan(recorder: SecretRecorder, client, roots: Iterable[Path]) -> tuple[list[str], dict[str, int]]:
    corpus, workflows = await history_corpus(client)
    files = log_files(roots)
    logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    hits = [f"history: {h}" for h in find_leaks(recorder.values, corpus)]
    log_hits = find_leaks(recorder.values, logs)
    hits += [f"logs: {h}" for h in log_hits]
    if log_hits:
        hits += _where(recorder.values, files)
    figures = {"secrets": len(recorder.values), "workflows": workflows, "log_files": len(files),
               "log_bytes": len(logs), "history_bytes": len(corpus)}
    return hits, figures
