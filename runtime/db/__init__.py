"""Postgres access: one asyncpg pool, ordered SQL migrations."""

from .migrate import MIGRATIONS_DIR, Migration, apply_migrations, load_migrations
from .pool import connect, create_pool

__all__ = ["MIGRATIONS_DIR", "Migration", "apply_migrations", "connect", "create_pool", "load_migrations"]
