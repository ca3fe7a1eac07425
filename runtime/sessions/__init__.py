"""Durable agent sessions: shared types, transcript store, tool catalog, gates, models.

Workflow code imports only :mod:`runtime.sessions.types` (pure pydantic) from here.
"""
