"""``python -m bench --quick`` runs every figure end to end and writes a RESULTS file with every section.

A smoke test of the benchmark code, not a benchmark: no timing is asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SECTIONS = (
    "## Machine",
    "## Targets (same run)",
    "## 1. One turn with one tool call",
    "## 2. A long session",
    "## 3. Sessions started at once on one worker",
    "## 4. Toolset assembly",
    "## 5. Entity upsert of 100k entities vs raw asyncpg COPY",
    "## 6. Idle memory per open session",
    "## Integration discovery",
)


def test_quick_bench_writes_every_section(tmp_path: Path, server_url: str):
    output = tmp_path / "RESULTS.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__")}
    env["AGENTRT__DATABASE__URL"] = server_url  # the suite's Postgres server; the bench makes its own databases
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    text = output.read_text()
    for section in SECTIONS:
        assert section in text, section
    assert "Quick smoke run" in text
    assert "| turn latency ≤ 0.5× baseline" in text
