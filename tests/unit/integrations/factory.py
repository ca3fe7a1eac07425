"""Write throw-away integration folders for discovery tests, and read back captured log events."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

import yaml

GOOD_INIT = """
from runtime.integrations import Integration


class Plain(Integration):
    pass


INTEGRATION = Plain()
"""


def write_integration(
    root: Path,
    domain: str,
    *,
    manifest: dict[str, Any] | str | None = None,
    init: str | None = GOOD_INIT,
    files: dict[str, str] | None = None,
    folder: str | None = None,
    **manifest_fields: Any,
) -> Path:
    """Create ``root/<folder or domain>`` with a manifest (dict, raw YAML text, or built from fields) and code."""
    path = root / (folder or domain)
    path.mkdir(parents=True, exist_ok=True)
    if isinstance(manifest, str):
        (path / "manifest.yaml").write_text(manifest)
    else:
        data = manifest if manifest is not None else {"domain": domain, "name": domain.title(), **manifest_fields}
        (path / "manifest.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    if init is not None:
        (path / "__init__.py").write_text(textwrap.dedent(init))
    for name, text in (files or {}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return path


def marker_init(marker: Path) -> str:
    """An ``__init__.py`` that proves it ran by writing ``marker``."""
    return GOOD_INIT + f"\nfrom pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"


def log_events(buf: io.StringIO, event: str | None = None) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]
    return [e for e in lines if event is None or e.get("event") == event]
