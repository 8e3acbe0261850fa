"""Athena (Trino) SQL: golden translations (tests/query/golden/athena.sql), and the same answers as
Athena gives, end to end through the gateway."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakegate.app import App
from lakegate.errors import GuardError
from lakegate.query.dialects import joda_to_strftime, to_duckdb
from lakegate.query.engines.duck_engine import QueryEngine
from tests.golden import golden_pairs
from tests.ingest.test_pipeline import deliver

GOLDEN = Path(__file__).parent / "golden" / "athena.sql"
SCHEMA = {
    "sales": {
        "orders": {"id": "BIGINT", "qty": "BIGINT", "amount": "DOUBLE", "name": "VARCHAR", "at": "TIMESTAMP"}
    }
}


def pairs() -> list[tuple[str, str]]:
    return golden_pairs(GOLDEN)


@pytest.mark.parametrize(("athena", "expected"), pairs())
def test_golden_translations(athena: str, expected: str) -> None:
    if expected.startswith("refused: "):
        with pytest.raises(GuardError) as err:
            to_duckdb(athena, "athena", lambda _names: SCHEMA)
        assert err.value.code == expected.removeprefix("refused: ") and err.value.hint
    else:
        assert to_duckdb(athena, "athena", lambda _names: SCHEMA) == expected


def test_joda_patterns() -> None:
    assert joda_to_strftime("yyyy-MM-dd'T'HH:mm:ss.SSS") == "%Y-%m-%dT%H:%M:%S.%g"
    assert joda_to_strftime("d MMM yyyy, h:mm a") == "%-d %b %Y, %-I:%M %p"
    assert joda_to_strftime("'it''s' yyyy ''") == "it's %Y '"
    assert joda_to_strftime("'100%' yyyy") == "100%% %Y"
    with pytest.raises(GuardError):
        joda_to_strftime("'open")


def test_athena_answers_like_athena_through_the_engine(app: App) -> None:
    deliver(app, "landing/sales/orders/a.csv", b"id,qty,name,at\n7,2,Ada Lovelace,2026-11-27 10:11:12\n")
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    try:
        sql = (
            "SELECT id / qty AS q, regexp_replace(name, '(\\w+) (\\w+)', '$2, $1') AS n, "
            "format_datetime(at, 'dd/MM/yyyy HH:mm') AS f FROM sales.orders"
        )
        assert engine.execute(sql, dialect="athena").table.to_pylist() == [
            {"q": 3, "n": "Lovelace, Ada", "f": "27/11/2026 10:11"}
        ]
        with pytest.raises(GuardError) as err:
            engine.execute('SELECT "$path" FROM sales.orders', dialect="athena")
        assert err.value.code == "guard.dialect"
    finally:
        engine.close()
