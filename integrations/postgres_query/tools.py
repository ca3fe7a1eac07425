"""The read-only query tools of one entry."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_ai.toolsets import FunctionToolset

from .runner import Database, QueryResult
from .sql_check import MAX_SQL_CHARS

LIST_TABLES = """
SELECT c.table_schema AS schema, c.table_name AS table,
       string_agg(c.column_name || ' ' || c.data_type, ', ' ORDER BY c.ordinal_position) AS columns
FROM information_schema.columns c
WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg_toast%'
  AND ($1::text IS NULL OR c.table_schema = $1)
GROUP BY c.table_schema, c.table_name
ORDER BY c.table_schema, c.table_name
"""


def build_toolset(db: Database) -> FunctionToolset:
    toolset: FunctionToolset = FunctionToolset()

    async def postgres_query_run(
        sql: Annotated[str, Field(max_length=MAX_SQL_CHARS)],
        max_rows: Annotated[int | None, Field(ge=1, le=5000)] = None,
    ) -> QueryResult:
        """Run ONE read-only SQL statement (SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW) and return its rows.

        Writes, DDL and several statements are refused. Long-running statements are cancelled.
        At most the entry's row cap is returned; ``truncated`` and ``note`` say when rows were
        left out — then add a LIMIT or a narrower WHERE.
        """
        return await db.query(sql, max_rows)

    async def postgres_query_list_tables(schema: Annotated[str | None, Field(max_length=63)] = None) -> QueryResult:
        """List the tables (one row each: schema, table, "column type, ..." ) the database user can see."""
        return await db.query(LIST_TABLES, args=(schema,))

    toolset.add_function(postgres_query_run, takes_ctx=False)
    toolset.add_function(postgres_query_list_tables, takes_ctx=False)
    return toolset
