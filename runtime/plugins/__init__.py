"""Event plugins in the reference format: a folder with ``plugin.json`` and ``handler.py``.

See docs/events.md. Discovery (:mod:`.loader`), per-scope configurations with encrypted
secret variables (:mod:`.configs`), the SDK handlers receive (:mod:`.sdk`) and the runner
that calls them (:mod:`.runner`).
"""

from .manifest import PluginManifest, PluginVariable
from .registry import LoadedPlugin, PluginError, PluginLoadFailure, PluginRegistry

__all__ = ["LoadedPlugin", "PluginError", "PluginLoadFailure", "PluginManifest", "PluginRegistry", "PluginVariable"]
