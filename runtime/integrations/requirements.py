"""Check a manifest's ``requirements`` against what is installed. Never installs anything.

Integrations run in-process, so their PyPI dependencies must be baked into the
image/venv. A missing one is reported (the loader warns) but does not block the
load: the integration may import it lazily or only need it for some tools.
"""

from __future__ import annotations

import importlib.metadata
import re
from email.parser import HeaderParser
from dataclasses import dataclass
from typing import Iterable

try:  # packaging is nearly always present (pip, setuptools); the regex below is the fallback.
    from packaging.requirements import InvalidRequirement, Requirement
except ImportError:  # pragma: no cover - depends on the environment
    Requirement = None  # type: ignore[assignment,misc]
    InvalidRequirement = ValueError  # type: ignore[assignment,misc]

_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


@dataclass(frozen=True)
class RequirementProblem:
    requirement: str
    reason: str  # "not_installed" | "version_mismatch" | "invalid"


def missing_requirements(requirements: Iterable[str]) -> list[RequirementProblem]:
    """The requirements that are not satisfied by the running environment."""
    problems: list[RequirementProblem] = []
    for text in requirements:
        problem = _check(text)
        if problem is not None:
            problems.append(problem)
    return problems


def _check(text: str) -> RequirementProblem | None:
    if Requirement is None:
        match = _NAME.match(text)
        if not match:
            return RequirementProblem(text, "invalid")
        return None if _installed_version(match[1]) is not None else RequirementProblem(text, "not_installed")
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return RequirementProblem(text, "invalid")
    if requirement.marker is not None and not requirement.marker.evaluate():
        return None  # not meant for this platform/python
    version = _installed_version(requirement.name)
    if version is None:
        return RequirementProblem(text, "not_installed")
    if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
        return RequirementProblem(text, "version_mismatch")
    return None


def _installed_version(name: str) -> str | None:
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    # ``dist.version`` runs the e-mail parser over the whole METADATA file, long description
    # included (~2 ms for a big package, per requirement, at every boot); the core-metadata
    # headers end at the first blank line, so parse only those.
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    version = HeaderParser().parsestr(text.split("\n\n", 1)[0]).get("Version")
    return str(version).strip() if version else dist.version
