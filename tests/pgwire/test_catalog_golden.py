"""The catalog queries real clients send, and the DuckDB SQL they become (golden pairs in
tests/pgwire/golden/catalog.sql); each one also runs on a session's pg_catalog."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakegate.app import App, open_app
from lakegate.pgwire.statements import SETTINGS
from lakegate.query.pg_catalog import PgCatalog, is_catalog_query, translate
from tests.golden import golden_pairs
from tests.ingest.test_pipeline import deliver

GOLDEN = Path(__file__).parent / "golden" / "catalog.sql"


def pairs() -> list[tuple[str, str]]:
    return golden_pairs(GOLDEN)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCatalog]:
    app: App = open_app(tmp_path_factory.mktemp("golden") / "home", create=True)
    deliver(app, "landing/acme/orders/dt=1/a.csv", b"id,region,amount\n1,EU,2.5\n")
    answering = PgCatalog(app.catalog, "ann", 4242)
    yield answering
    answering.close()
    app.close()


@pytest.mark.parametrize(("client", "expected"), pairs())
def test_client_catalog_queries_translate_and_run(catalog: PgCatalog, client: str, expected: str) -> None:
    assert is_catalog_query(client)
    assert translate(client, "ann") == expected
    params = max((int(n) for n in re.findall(r"\$(\d+)", client)), default=0)
    catalog.answer(client, [None] * params, catalog.snapshot(None), SETTINGS)  # runs without an error


def test_the_corpus_covers_the_clients() -> None:
    texts = [c for c, _e in pairs()]
    assert len(texts) >= 30
    assert any("pg_catalog.pg_get_userbyid(d.datdba)" in t for t in texts)  # psql \l
    assert any("TABLE_SCHEM" in t for t in texts)  # JDBC
    assert any("pg_catalog.pg_attribute.attname AS name" in t for t in texts)  # SQLAlchemy


if __name__ == "__main__":  # regenerate the translations after a deliberate change
    kept = [line for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.startswith("-- ")]
    blocks = [f"{client}\n=> {translate(client, 'ann')}" for client, _e in pairs()]
    GOLDEN.write_text("\n".join(kept) + "\n" + "\n--\n".join(blocks) + "\n", encoding="utf-8")
