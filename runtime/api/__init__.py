"""The HTTP API and web console: ``create_app(services, client, settings)``."""

from .app import create_app, create_app_from_settings

__all__ = ["create_app", "create_app_from_settings"]
