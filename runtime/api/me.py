"""``/api/me``: who the credentials name, so clients (the console) can show it and offer admin tools."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..principal import Principal
from .auth import current_principal
from .errors import COMMON_ERRORS

router = APIRouter(prefix="/api", tags=["auth"], responses=COMMON_ERRORS)


@router.get("/me", response_model=Principal, summary="The calling principal")
async def me(principal: Principal = Depends(current_principal)) -> Principal:
    return principal
