"""The zero-config dev stack: Temporal dev server and embedded Postgres, supervised."""
