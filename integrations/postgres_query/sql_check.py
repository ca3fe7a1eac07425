"""A first look at the SQL before it reaches the server: one statement, starting with a reading keyword.

This is for clear errors, not for safety. The server enforces both rules anyway: the
statement runs as a prepared statement (Postgres refuses several commands in one) inside
a READ ONLY transaction that is always rolled back.
"""

from __future__ import annotations

import re

MAX_SQL_CHARS = 20_000
READING_KEYWORDS = frozenset({"select", "with", "values", "table", "explain", "show"})
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_FIRST_WORD = re.compile(r"[A-Za-z_]+")


class SqlRefused(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def _code_only(sql: str) -> str:
    """``sql`` with comments, string literals, quoted identifiers and dollar quotes blanked out."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch, nxt = sql[i], sql[i + 1 : i + 2]
        if ch == "-" and nxt == "-":
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif ch == "/" and nxt == "*":
            depth, i = 1, i + 2  # Postgres block comments nest
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif ch in ("'", '"'):
            # E'..' strings also take backslash escapes; '' / "" double the quote everywhere.
            escapes = ch == "'" and i > 0 and sql[i - 1] in "eE"
            i += 1
            while i < n:
                if escapes and sql[i] == "\\":
                    i += 2
                elif sql[i] == ch and sql[i + 1 : i + 2] == ch:
                    i += 2
                elif sql[i] == ch:
                    i += 1
                    break
                else:
                    i += 1
            out.append(" ")
        elif ch == "$" and (match := _DOLLAR_TAG.match(sql, i)) and not (i and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            end = sql.find(match.group(0), match.end())
            i = n if end < 0 else end + len(match.group(0))
            out.append(" ")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def check_sql(sql: str) -> str:
    """The statement to run, or :class:`SqlRefused` with a key."""
    if len(sql) > MAX_SQL_CHARS:
        raise SqlRefused("sql_too_long", f"the statement is longer than {MAX_SQL_CHARS} characters")
    code = _code_only(sql).rstrip().rstrip(";").rstrip()
    if ";" in code:
        raise SqlRefused("multiple_statements", "send one statement at a time")
    first = _FIRST_WORD.search(code)
    if first is None:
        raise SqlRefused("empty_statement", "there is no statement to run")
    if first.group(0).lower() not in READING_KEYWORDS:
        raise SqlRefused("not_read_only", f"{first.group(0).upper()} statements are not allowed: this tool only reads "
                                          "(SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW)")
    # A trailing semicolon is fine as it is: Postgres parses "SELECT 1;" as one command.
    return sql.strip()
