"""Column types as a Glue crawler writes them (Hive's names, lowercase: ``string``, ``bigint``,
``decimal(10,2)``, ``array<string>``, ``struct<a:bigint>``), from lakegate's DuckDB types."""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import ParseError

# DuckDB types Hive has no name for, as the nearest type that keeps every value
_NEAREST = {
    exp.DataType.Type.JSON: "STRING", exp.DataType.Type.UUID: "STRING", exp.DataType.Type.TIME: "STRING",
    exp.DataType.Type.INTERVAL: "STRING", exp.DataType.Type.INT128: "DECIMAL(38,0)",
    exp.DataType.Type.UBIGINT: "DECIMAL(20,0)", exp.DataType.Type.UINT: "BIGINT",
    exp.DataType.Type.USMALLINT: "INT", exp.DataType.Type.UTINYINT: "SMALLINT",
    exp.DataType.Type.TIMESTAMPTZ: "TIMESTAMP",
}  # fmt: skip


@lru_cache(maxsize=4096)
def hive_type(duckdb_type: str) -> str:
    """Hive's name of a DuckDB type (``string`` for one sqlglot cannot read)."""
    try:
        tree = exp.DataType.build(duckdb_type, dialect="duckdb")
    except (ParseError, ValueError):
        return "string"
    for node in list(tree.find_all(exp.DataType)):
        nearest = _NEAREST.get(node.this)
        if nearest is not None:
            node.replace(exp.DataType.build(nearest, dialect="hive"))
    text = tree.sql(dialect="hive") if tree.this not in _NEAREST else _NEAREST[tree.this]
    return text.lower().replace(", ", ",").replace(": ", ":")
