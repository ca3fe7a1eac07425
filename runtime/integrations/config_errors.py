"""Errors of config entries and config flows, each with a stable key.

Messages name ids, domains, scopes and field names, never a submitted or stored value:
a secret can reach an exception only through a value, so no value is ever formatted in.
"""

from __future__ import annotations

from .errors import IntegrationError


class ConfigEntryError(IntegrationError):
    key = "config_entry_error"


class EntryNotFoundError(ConfigEntryError):
    key = "entry_not_found"


class IntegrationUnavailableError(ConfigEntryError):
    """The domain has no integration row, or its code is not loaded in this process."""

    key = "integration_not_found"


class IntegrationDisabledError(ConfigEntryError):
    key = "integration_disabled"


class ScopeNotAllowedError(ConfigEntryError):
    """The scope is not in the integration row's admin-governed ``allowed_scopes``."""

    key = "scope_not_allowed"


class ScopeForbiddenError(ConfigEntryError):
    """The principal may not own an entry in this scope (shared scopes need an admin)."""

    key = "scope_forbidden"


class ScopeOwnerMissingError(ConfigEntryError):
    """The scope needs an owner the caller did not give (org scope without an org, ...)."""

    key = "scope_owner_missing"


class AlreadyConfiguredError(ConfigEntryError):
    key = "already_configured"


class EntryRevisionConflictError(ConfigEntryError):
    key = "entry_revision_conflict"


class MaskedValueError(ConfigEntryError):
    """A submitted secret looks like a mask but is not the current mask of that field."""

    key = "masked_value_invalid"


class FlowError(IntegrationError):
    key = "flow_error"


class FlowNotFoundError(FlowError):
    key = "flow_not_found"


class FlowExpiredError(FlowError):
    key = "flow_expired"


class FlowForbiddenError(FlowError):
    key = "flow_forbidden"


class FlowInputTooLargeError(FlowError):
    key = "flow_input_too_large"


class FlowInputInvalidError(FlowError):
    key = "flow_input_invalid"


class FlowConflictError(FlowError):
    """The flow advanced (another submission) between this submission's read and write."""

    key = "flow_conflict"


class FlowSourceError(FlowError):
    """A reconfigure/reauth flow without an entry, or a source the integration cannot run."""

    key = "flow_source_invalid"
