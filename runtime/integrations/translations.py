"""Server-side i18n of config-flow text: ``translations/<lang>.json`` in an integration's folder.

Keys are dotted paths (``field.api_key.label``, ``error.auth_failed``, ``abort.already_configured``,
``step.user.title``); files may spell them flat or nested. Lookup goes through the requested
language, its base language and ``en``, checking the integration's file before the runtime's
generic defaults at each language; a key found nowhere is shown as itself.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..logging import get_logger

DEFAULT_LANG = "en"
DEFAULTS_DIR = Path(__file__).parent / "default_translations"
# Also what keeps a language code from naming a path outside the translations folder.
_LANG = re.compile(r"^([a-z]{2,3})(?:[-_]([A-Za-z0-9]{2,8}))?$")
_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")

log = get_logger(__name__)


def language_chain(lang: str | None) -> list[str]:
    """``"pt_br"`` -> ``["pt-BR", "pt", "en"]``; anything malformed -> ``["en"]``."""
    match = _LANG.match((lang or "").strip())
    if not match:
        return [DEFAULT_LANG]
    base, region = match[1].lower(), match[2]
    chain = [f"{base}-{region.upper() if len(region) == 2 else region}"] if region else []
    chain.append(base)
    if DEFAULT_LANG not in chain:
        chain.append(DEFAULT_LANG)
    return chain


def _flatten(raw: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            out.update(_flatten(value, f"{prefix}{key}."))
    elif isinstance(raw, str) and prefix:
        out[prefix[:-1]] = raw
    return out


@lru_cache(maxsize=1024)
def load_translations(folder: Path, lang: str) -> Mapping[str, str]:
    """The flattened ``<folder>/<lang>.json``, or empty when absent or unreadable. Cached per process."""
    path = folder / f"{lang}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return MappingProxyType({})
    except (OSError, ValueError, RecursionError) as exc:
        log.warning("translations_unreadable", path=str(path), error_type=type(exc).__name__)
        return MappingProxyType({})
    return MappingProxyType(_flatten(raw))


def fill_placeholders(text: str, placeholders: Mapping[str, Any] | None) -> str:
    """Replace ``{name}`` with its value; unknown names stay as written (no str.format surprises)."""
    if not placeholders:
        return text
    return _PLACEHOLDER.sub(lambda m: str(placeholders.get(m[1], m[0])), text)


class Translator:
    """Resolves keys for one integration and one language."""

    def __init__(self, integration_dir: Path | str | None, lang: str | None = DEFAULT_LANG) -> None:
        self.languages = language_chain(lang)
        folders = [] if integration_dir is None else [Path(integration_dir) / "translations"]
        self._folders = [*folders, DEFAULTS_DIR]

    def get(self, key: str) -> str | None:
        for lang in self.languages:
            for folder in self._folders:
                value = load_translations(folder, lang).get(key)
                if value is not None:
                    return value
        return None

    def text(self, key: str, placeholders: Mapping[str, Any] | None = None) -> str:
        return fill_placeholders(self.get(key) or key, placeholders)

    def error(self, error_key: str, placeholders: Mapping[str, Any] | None = None) -> str:
        text = self.get(f"error.{error_key}") or f"error.{error_key}"
        return fill_placeholders(text, placeholders)

    def abort_reason(self, reason: str, placeholders: Mapping[str, Any] | None = None) -> str:
        text = self.get(f"abort.{reason}") or self.get(f"error.{reason}") or f"abort.{reason}"
        return fill_placeholders(text, placeholders)
