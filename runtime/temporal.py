"""Temporal client and worker wiring (the one place `runtime` imports workflows/activities)."""

from __future__ import annotations

from datetime import timedelta

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from .codec import EncryptionCodec
from .crypto import KeyRing, load_keyring
from .services import Services
from .settings import Settings

# Modules imported by workflows that are deterministic and side-effect free at import:
# passing them through saves re-importing them for every workflow run in the sandbox.
SANDBOX_PASSTHROUGH = (
    "pydantic",
    "pydantic_core",
    "pydantic_ai",
    "annotated_types",
    "typing_extensions",
    "structlog",
    "runtime",
    "activities",
)


def data_converter(settings: Settings, ring: KeyRing | None = None) -> DataConverter:
    """pydantic payloads, sealed by the key ring when payload encryption is on (production default)."""
    if not settings.temporal.encrypt_payloads:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(ring or load_keyring(settings)))


async def connect_client(settings: Settings, address: str, *, ring: KeyRing | None = None) -> Client:
    api_key = settings.temporal.api_key.get_secret_value() if settings.temporal.api_key else None
    return await Client.connect(
        address,
        namespace=settings.temporal.namespace,
        data_converter=data_converter(settings, ring),
        tls=settings.temporal.tls,
        api_key=api_key,
    )


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*SANDBOX_PASSTHROUGH)
    )


def build_worker(client: Client, services: Services, *, task_queue: str | None = None) -> Worker:
    from activities import build_activities
    from workflows import WORKFLOWS

    opts = services.ctx.settings.temporal
    return Worker(
        client,
        task_queue=task_queue or opts.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(services),
        workflow_runner=workflow_runner(),
        max_concurrent_activities=opts.max_concurrent_activities,
        max_concurrent_workflow_tasks=opts.max_concurrent_workflow_tasks,
        max_cached_workflows=opts.max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=opts.graceful_shutdown_seconds),
    )
