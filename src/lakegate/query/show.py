"""``SHOW`` and ``DESCRIBE``, answered from what the caller may read.

SQL clients and people expect ``SHOW TABLES``, ``SHOW DATABASES`` and ``DESCRIBE db.table`` to
work, in DuckDB's and in Athena's spelling. They are not passed to the engine: each becomes a
plain query over ``information_schema``, which lists only the caller's tables and columns, so
they go through the guard and the sandbox like any other query.

    SHOW DATABASES | SHOW SCHEMAS                       database
    SHOW TABLES [FROM|IN db]                            database, name
    DESCRIBE [TABLE] db.t | SHOW COLUMNS FROM|IN db.t   column_name, column_type, null
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakegate.duck.sql import sql_literal

_IDENT = r'(?:"(?:[^"]|"")+"|`[^`]+`|[A-Za-z_][A-Za-z0-9_$]*)'
_END = r"\s*;?\s*$"
_DATABASES = re.compile(r"^\s*SHOW\s+(?:DATABASES|SCHEMAS)" + _END, re.IGNORECASE)
_TABLES = re.compile(rf"^\s*SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+(?P<db>{_IDENT}))?" + _END, re.IGNORECASE)
_COLUMNS = re.compile(
    rf"^\s*(?:DESCRIBE|DESC|SHOW\s+COLUMNS\s+(?:FROM|IN))\s+(?:TABLE\s+)?(?P<db>{_IDENT})\s*\.\s*(?P<t>{_IDENT})"
    + _END,
    re.IGNORECASE,
)
_SYSTEM = ("main", "information_schema", "pg_catalog")


@dataclass(frozen=True)
class Shown:
    sql: str  # the query that answers it
    table: tuple[str, str] | None = None  # the table it describes: unknown ones are refused as such


def rewrite(sql: str) -> Shown | None:
    """The query answering a SHOW/DESCRIBE statement; ``None`` for any other statement."""
    if not re.match(r"^\s*(SHOW|DESCRIBE|DESC)\b", sql, re.IGNORECASE):
        return None
    system = ", ".join(sql_literal(s) for s in _SYSTEM)
    if _DATABASES.match(sql):
        return Shown(
            "SELECT DISTINCT table_schema AS database FROM information_schema.tables "
            f"WHERE table_schema NOT IN ({system}) ORDER BY 1"
        )
    found = _TABLES.match(sql)
    if found:
        where = f"table_schema NOT IN ({system})"
        if found["db"]:
            where += f" AND table_schema = {sql_literal(_name(found['db']))}"
        return Shown(
            "SELECT table_schema AS database, table_name AS name FROM information_schema.tables "
            f"WHERE {where} ORDER BY 1, 2"
        )
    found = _COLUMNS.match(sql)
    if found:
        database, table = _name(found["db"]), _name(found["t"])
        return Shown(
            'SELECT column_name, data_type AS column_type, is_nullable AS "null" '
            "FROM information_schema.columns "
            f"WHERE table_schema = {sql_literal(database)} AND table_name = {sql_literal(table)} "
            "ORDER BY ordinal_position",
            (database, table),
        )
    return None


def _name(text: str) -> str:
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    if text.startswith("`"):
        return text[1:-1]
    return text.lower()
