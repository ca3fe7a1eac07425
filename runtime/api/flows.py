"""``/api/flows``: the config-flow wizard over HTTP — the generic form protocol.

Every answer is a :class:`FlowView`: a form to render (fields, resolved labels,
per-field error keys with their text), a created entry, or an abort with a reason.
A client never needs to know an integration to drive its wizard. Secret fields
never come back, not even as defaults.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ..integrations.flow_view import FlowView
from ..logging import get_logger
from ..principal import Principal
from .auth import current_principal
from .entry_hooks import after_entry_change
from .errors import COMMON_ERRORS, CONFLICT, NOT_FOUND, ErrorBody
from .state import ApiState, get_state
from .validation import DOMAIN_PATTERN, ID_PATTERN, check_json

log = get_logger(__name__)
router = APIRouter(prefix="/api/flows", tags=["config flows"], responses=COMMON_ERRORS)

LANG = Query("en", max_length=16, description="language of labels and error texts (falls back to en)")


class FlowStart(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"domain": "myservice"}]})

    domain: str = Field(pattern=DOMAIN_PATTERN)
    scope: Literal["user", "org", "global", "group"] = "user"
    source: Literal["user", "reconfigure", "reauth"] = "user"
    entry_id: str | None = Field(default=None, pattern=ID_PATTERN, description="the entry a reconfigure/reauth updates")
    group_id: str | None = Field(default=None, pattern=ID_PATTERN, description="the group of a group-scoped entry")


@router.post("", response_model=FlowView, responses={**NOT_FOUND, **CONFLICT,
             403: {"model": ErrorBody, "description": "the scope needs an admin"}},
             summary="Start a config flow: the first form, or the entry when there is no form")
async def start_flow(
    start: FlowStart,
    lang: str = LANG,
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> FlowView:
    view = await state.flows.start(start.domain, principal, scope=start.scope, source=start.source,
                                   entry_id=start.entry_id, lang=lang, group_id=start.group_id)
    return await _settled(state, view)


@router.get("/{flow_id}", response_model=FlowView, responses={**NOT_FOUND, 410: {"model": ErrorBody}},
            summary="The form a flow waits on")
async def get_flow(
    flow_id: str = Path(pattern=ID_PATTERN),
    lang: str = LANG,
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> FlowView:
    return await state.flows.get(flow_id, principal, lang=lang)


@router.post("/{flow_id}", response_model=FlowView,
             responses={**NOT_FOUND, **CONFLICT, 410: {"model": ErrorBody}, 413: {"model": ErrorBody}},
             summary="Submit the current step's field values")
async def submit_flow(
    flow_id: str = Path(pattern=ID_PATTERN),
    user_input: dict[str, Any] = Body(default_factory=dict, description="field name -> value, for the form shown"),
    lang: str = LANG,
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> FlowView:
    check_json(user_input, key="flow_input_invalid", what="flow input")
    return await _settled(state, await state.flows.submit(flow_id, user_input, principal, lang=lang))


async def _settled(state: ApiState, view: FlowView) -> FlowView:
    """A flow that created (or reconfigured) an entry gets the entry's schedule in line."""
    if view.type == "create_entry" and view.entry_id:
        await after_entry_change(state, "created", view.entry_id)
    return view


@router.delete("/{flow_id}", status_code=204, response_class=Response, responses=NOT_FOUND,
               summary="Abandon a flow and the values it collected")
async def abort_flow(
    flow_id: str = Path(pattern=ID_PATTERN),
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> Response:
    await state.flows.abort(flow_id, principal)
    return Response(status_code=204)
