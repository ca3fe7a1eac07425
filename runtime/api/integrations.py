"""``/api/integrations``: what is installed, whether it loaded, and the admin's policy columns."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from ..integrations.registry import IntegrationNotFoundError
from ..integrations.sync import (
    IntegrationRow,
    integration_rows,
    set_allowed_scopes,
    set_enabled,
    set_required_tier_override,
)
from ..logging import get_logger
from ..principal import Principal
from ..tiers import Tier
from .auth import admin_principal, current_principal
from .errors import COMMON_ERRORS, NOT_FOUND, ErrorBody
from .state import ApiState, get_state
from .validation import DOMAIN_PATTERN

log = get_logger(__name__)
router = APIRouter(prefix="/api/integrations", tags=["integrations"], responses=COMMON_ERRORS)

ScopeName = Literal["user", "org", "global", "group"]


class IntegrationView(BaseModel):
    domain: str
    name: str
    version: str
    status: Literal["loaded", "not_found", "failed"] = Field(description="what the last registry sync saw")
    loaded_here: bool = Field(description="this API process has the integration's code loaded")
    error_key: str | None = None
    integration_type: str | None = None
    config_flow: bool = False
    single_instance: bool = True
    trust_tier: str = "trusted"
    required_tier: str = "unregulated"
    documentation: str | None = None
    # admin-owned policy
    enabled: bool
    allowed_scopes: list[str]
    required_tier_override: str | None = None


class IntegrationPatch(BaseModel):
    """Admin policy. Absent fields are left alone; ``required_tier_override: null`` clears the override."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"enabled": True, "allowed_scopes": ["user", "org"], "required_tier_override": None}]})

    enabled: bool | None = None
    allowed_scopes: list[ScopeName] | None = Field(default=None, max_length=4)
    required_tier_override: Literal["unregulated", "regulated", "internal"] | None = None


def view(row: IntegrationRow, loaded_here: bool) -> IntegrationView:
    manifest: dict[str, Any] = row.manifest or {}
    required = manifest.get("required_tier", 0)
    try:
        required_label = Tier.parse(required).label
    except Exception:  # a manifest stored by older code: show it rather than fail the listing
        required_label = str(required)
    return IntegrationView(
        domain=row.domain, name=row.name, version=row.version, status=row.status, loaded_here=loaded_here,
        error_key=row.error_key, integration_type=manifest.get("integration_type"),
        config_flow=bool(manifest.get("config_flow", False)),
        single_instance=bool(manifest.get("single_instance", True)),
        trust_tier=str(manifest.get("trust_tier", "trusted")), required_tier=required_label,
        documentation=manifest.get("documentation"), enabled=row.enabled, allowed_scopes=list(row.allowed_scopes),
        required_tier_override=row.required_tier_override.label if row.required_tier_override is not None else None,
    )


@router.get("", response_model=list[IntegrationView], summary="Every known integration")
async def list_integrations(
    state: ApiState = Depends(get_state), _: Principal = Depends(current_principal)
) -> list[IntegrationView]:
    rows = await integration_rows(state.pool)
    return [view(row, row.domain in state.services.registry) for row in rows.values()]


@router.get("/{domain}", response_model=IntegrationView, responses=NOT_FOUND, summary="One integration")
async def get_integration(
    domain: str = Path(pattern=DOMAIN_PATTERN, examples=["myservice"]),
    state: ApiState = Depends(get_state),
    _: Principal = Depends(current_principal),
) -> IntegrationView:
    row = (await integration_rows(state.pool)).get(domain)
    if row is None:
        raise IntegrationNotFoundError(f"no integration {domain!r}")
    return view(row, domain in state.services.registry)


@router.patch("/{domain}", response_model=IntegrationView,
              responses={**NOT_FOUND, 403: {"model": ErrorBody, "description": "not an admin"}},
              summary="Admin: enable/disable, allowed scopes, tier override")
async def patch_integration(
    patch: IntegrationPatch,
    domain: str = Path(pattern=DOMAIN_PATTERN, examples=["myservice"]),
    state: ApiState = Depends(get_state),
    admin: Principal = Depends(admin_principal),
) -> IntegrationView:
    given = patch.model_fields_set
    row = (await integration_rows(state.pool)).get(domain)
    if row is None:
        raise IntegrationNotFoundError(f"no integration {domain!r}")
    if "enabled" in given and patch.enabled is not None:
        row = await set_enabled(state.pool, domain, patch.enabled)
    if "allowed_scopes" in given and patch.allowed_scopes is not None:
        row = await set_allowed_scopes(state.pool, domain, patch.allowed_scopes)
    if "required_tier_override" in given:
        row = await set_required_tier_override(state.pool, domain, patch.required_tier_override)
    log.info("api_integration_patched", domain=domain, by=admin.sub, fields=sorted(given))
    return view(row, domain in state.services.registry)
