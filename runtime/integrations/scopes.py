"""Who owns a config entry, and who may use it.

An entry is owned by exactly one scope: a user (``owner_sub``), a group
(``group_id``, optionally inside an org), an org (``org_id``) or everyone
(``global``). The same rule is written twice on purpose: as SQL for listing
(:data:`VISIBLE_TO_PRINCIPAL_SQL`) and as Python (:func:`is_visible_to`) for
checks on one entry; the property test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from ..principal import Principal
from .config_errors import ScopeForbiddenError, ScopeOwnerMissingError

Scope = Literal["user", "org", "global", "group"]
SCOPES: tuple[str, ...] = get_args(Scope)
# Where a single-instance integration has entries in several visible scopes, the most
# specific one applies: a user's own configuration overrides the group's, and so on.
PRECEDENCE: dict[str, int] = {"user": 0, "group": 1, "org": 2, "global": 3}


@dataclass(frozen=True)
class EntryOwner:
    """The owner columns of one entry, shaped as the table's CHECK constraint demands."""

    scope: Scope
    owner_sub: str | None = None
    org_id: str | None = None
    group_id: str | None = None

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ScopeOwnerMissingError(f"unknown scope {self.scope!r}")
        needs = {"user": self.owner_sub, "org": self.org_id, "group": self.group_id}
        if self.scope in needs and not needs[self.scope]:
            raise ScopeOwnerMissingError(f"a {self.scope} entry needs its owner")
        # Drop columns the scope does not use, so an owner never carries a stray id.
        if self.scope == "user":
            object.__setattr__(self, "org_id", None)
            object.__setattr__(self, "group_id", None)
        elif self.scope == "org":
            object.__setattr__(self, "owner_sub", None)
            object.__setattr__(self, "group_id", None)
        elif self.scope == "group":
            object.__setattr__(self, "owner_sub", None)
        else:
            object.__setattr__(self, "owner_sub", None)
            object.__setattr__(self, "org_id", None)
            object.__setattr__(self, "group_id", None)

    @classmethod
    def for_principal(cls, principal: Principal, scope: str, group_id: str | None = None) -> "EntryOwner":
        """The owner of an entry ``principal`` configures in ``scope``.

        A user entry is the principal's own. Shared scopes (org, group, global) change the
        tools other people get, so only an admin may configure them; a group entry also
        needs the admin to be in that group, and sits in the admin's org.
        """
        if scope == "user":
            return cls("user", owner_sub=principal.sub)
        if scope not in SCOPES:
            raise ScopeOwnerMissingError(f"unknown scope {scope!r}")
        if not principal.is_admin:
            raise ScopeForbiddenError(f"only an admin may configure {scope}-scoped entries")
        if scope == "org":
            if not principal.org_id:
                raise ScopeOwnerMissingError("an org entry needs a principal with an org")
            return cls("org", org_id=principal.org_id)
        if scope == "group":
            if not group_id:
                raise ScopeOwnerMissingError("a group entry needs a group_id")
            if group_id not in principal.groups:
                raise ScopeForbiddenError("the principal is not a member of that group")
            return cls("group", org_id=principal.org_id, group_id=group_id)
        return cls("global")

    @property
    def lock_key(self) -> str:
        """A string naming this owner, for advisory locks that serialise creation per owner."""
        return "|".join((self.scope, self.owner_sub or "", self.org_id or "", self.group_id or ""))


def is_visible_to(principal: Principal, scope: str, owner_sub: str | None, org_id: str | None,
                  group_id: str | None) -> bool:
    """May ``principal`` use an entry with these owner columns? (Ignores disabled flags.)"""
    if scope == "user":
        return owner_sub is not None and owner_sub == principal.sub
    if scope == "group":
        if group_id is None or group_id not in principal.groups:
            return False
        return org_id is None or org_id == principal.org_id
    if scope == "org":
        return org_id is not None and org_id == principal.org_id
    return scope == "global"


def may_manage(principal: Principal, scope: str, owner_sub: str | None, org_id: str | None,
               group_id: str | None) -> bool:
    """May ``principal`` reconfigure/reauthenticate/delete such an entry? Owners and admins of its scope."""
    if scope == "user":
        return owner_sub == principal.sub
    return principal.is_admin and is_visible_to(principal, scope, owner_sub, org_id, group_id)


# $1 sub, $2 org_id (may be NULL), $3 groups (text[]); table alias e.
VISIBLE_TO_PRINCIPAL_SQL = """(
    (e.scope = 'user' AND e.owner_sub = $1)
    OR (e.scope = 'group' AND e.group_id = ANY($3::text[]) AND (e.org_id IS NULL OR e.org_id = $2))
    OR (e.scope = 'org' AND e.org_id = $2)
    OR e.scope = 'global'
)"""
