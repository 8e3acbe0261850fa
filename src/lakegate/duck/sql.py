"""SQL text for DuckDB: quoted names and literals."""

from __future__ import annotations


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def struct_literal(items: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in items) + "}"
