"""Who a session or API call acts for."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    sub: str = Field(min_length=1, max_length=256)
    org_id: str | None = Field(default=None, max_length=256)
    groups: tuple[str, ...] = ()
    is_admin: bool = False
