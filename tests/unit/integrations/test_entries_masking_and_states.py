"""Masking rules, entry states and owner shapes: the pure parts of config entries."""

from __future__ import annotations

import pytest

from runtime.integrations.config_errors import ScopeForbiddenError, ScopeOwnerMissingError
from runtime.integrations.entry_states import ConfigEntryState
from runtime.integrations.masking import MASK, keeps_stored, looks_masked, mask_value
from runtime.integrations.scopes import EntryOwner, is_visible_to, may_manage
from runtime.principal import Principal


def test_password_masks_show_the_last_four_only_when_the_value_is_long():
    assert mask_value("password", "abcdefghijkl") == MASK + "ijkl"
    assert mask_value("password", "abcdefghijk") == MASK
    assert mask_value("password", None) == MASK


def test_secret_fields_are_write_only_whatever_their_length():
    assert mask_value("secret", "a-very-long-api-key-0123456789") == MASK
    assert mask_value("unknown-kind", "a-very-long-api-key-0123456789") == MASK


def test_a_mask_means_keep_only_when_it_is_the_current_one():
    assert keeps_stored(MASK + "ijkl", MASK + "ijkl") and keeps_stored(MASK, MASK + "ijkl")
    assert not keeps_stored(MASK + "zzzz", MASK + "ijkl") and not keeps_stored("new", MASK)
    assert looks_masked(MASK + "ab") and not looks_masked("plain") and not looks_masked(MASK + "12345")


def test_entry_states_use_home_assistant_names_and_know_if_they_are_recoverable():
    assert [s.value for s in ConfigEntryState] == [
        "not_loaded", "loaded", "setup_error", "setup_retry", "setup_in_progress", "migration_error",
        "failed_unload", "not_found"]
    assert ConfigEntryState.SETUP_RETRY.recoverable is True
    assert ConfigEntryState.MIGRATION_ERROR.recoverable is False
    assert ConfigEntryState.FAILED_UNLOAD.recoverable is False
    assert ConfigEntryState("loaded") is ConfigEntryState.LOADED and ConfigEntryState.LOADED == "loaded"


def test_owners_carry_exactly_the_columns_their_scope_needs():
    assert EntryOwner("user", owner_sub="a", org_id="o", group_id="g") == EntryOwner("user", owner_sub="a")
    assert EntryOwner("global", owner_sub="a", org_id="o") == EntryOwner("global")
    with pytest.raises(ScopeOwnerMissingError):
        EntryOwner("org")
    with pytest.raises(ScopeOwnerMissingError):
        EntryOwner("team")  # type: ignore[arg-type]


def test_only_admins_configure_shared_scopes_and_only_for_their_own_org_and_groups():
    user = Principal(sub="u", org_id="o", groups=("g",))
    admin = Principal(sub="a", org_id="o", groups=("g",), is_admin=True)
    assert EntryOwner.for_principal(user, "user") == EntryOwner("user", owner_sub="u")
    for scope in ("org", "group", "global"):
        with pytest.raises(ScopeForbiddenError):
            EntryOwner.for_principal(user, scope, group_id="g")
    assert EntryOwner.for_principal(admin, "group", "g") == EntryOwner("group", org_id="o", group_id="g")
    with pytest.raises(ScopeForbiddenError):
        EntryOwner.for_principal(admin, "group", "other")
    with pytest.raises(ScopeOwnerMissingError):
        EntryOwner.for_principal(Principal(sub="x", is_admin=True), "org")


def test_managing_an_entry_needs_ownership_or_admin_rights_in_its_scope():
    owner = Principal(sub="u", org_id="o")
    admin = Principal(sub="a", org_id="o", is_admin=True)
    assert may_manage(owner, "user", "u", None, None) and not may_manage(admin, "user", "u", None, None)
    assert may_manage(admin, "org", None, "o", None) and not may_manage(owner, "org", None, "o", None)
    assert not may_manage(admin, "org", None, "elsewhere", None)
    assert is_visible_to(owner, "org", None, "o", None) and not is_visible_to(owner, "group", None, None, "g")
