"""Entities: the store and its diffs, scheduled syncs, webhooks and entity actions.

Kept import-light on purpose: workflow code imports :mod:`.types` through this package
inside Temporal's sandbox, so nothing here may pull in asyncpg or an integration.
Import the submodules you need (``runtime.entities.store`` ...).
"""
