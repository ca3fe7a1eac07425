"""Integration framework errors, each with a stable key."""

from __future__ import annotations

from ..errors import AgentrtError


class IntegrationError(AgentrtError):
    key = "integration_error"


class ManifestError(IntegrationError):
    key = "integration_manifest_invalid"


class DomainMismatchError(IntegrationError):
    key = "integration_domain_mismatch"


class IntegrationImportError(IntegrationError):
    key = "integration_import_failed"


class MissingIntegrationObjectError(IntegrationError):
    key = "integration_object_missing"


class DependencyError(IntegrationError):
    key = "integration_dependency_unmet"


class DependencyCycleError(IntegrationError):
    key = "integration_dependency_cycle"
