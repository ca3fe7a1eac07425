"""Schemathesis against /openapi.json: valid and invalid requests to every operation, never a 5xx.

The app is served by uvicorn on this test's event loop (with the in-process worker, so
sessions it creates really start); schemathesis runs in a thread and speaks HTTP to it.
Bounded: a few examples per operation and generation mode, derandomized.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from runtime.api.tokens import mint_token, signing_key
from runtime.principal import Principal

MAX_EXAMPLES = 10
FUZZER = Principal(sub="fuzzer", org_id="acme", groups=("ops",), is_admin=True)


def fuzz(base_url: str, headers: dict[str, str]) -> tuple[int, int, list[str], Counter[int]]:
    """(operations, cases sent, failures, status codes seen) for every operation in both generation modes."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    cases = 0
    operations = 0
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                                 suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case: schemathesis.Case) -> None:
                nonlocal cases
                cases += 1
                response = case.call(base_url=base_url, headers=headers, timeout=60)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    body = response.content[:300].decode(errors="replace")
                    failures.append(f"{mode.value} {case.method} {case.formatted_path} -> {response.status_code} {body}")

            try:
                send()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body): negative mode is empty
                assert mode is GenerationMode.NEGATIVE, operation.label
    return operations, cases, failures, statuses


async def test_no_generated_request_gets_a_server_error(live_api, worker, artifacts, settings, suite_secret_scan):
    # A real token: schemathesis fills in the security schemes' headers itself, and ours must win.
    token = mint_token(FUZZER, signing_key(settings), 3600)
    with suite_secret_scan.paused():  # generated "secrets" are not secret, and may equal ordinary text
        operations, cases, failures, statuses = await asyncio.to_thread(
            fuzz, live_api, {"Authorization": f"Bearer {token}"})
    report = (f"schemathesis: {operations} operations, {cases} cases, {len(failures)} server errors; "
              f"statuses {dict(sorted(statuses.items()))}\n")
    (artifacts / "schemathesis.txt").write_text(report + "\n".join(failures) + "\n")
    print(report)
    assert operations >= 20 and cases >= operations * 2
    assert statuses[200] + statuses[201] + statuses[204] >= operations  # most operations were really exercised
    assert failures == [], "\n".join(failures[:20])
