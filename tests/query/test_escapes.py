"""A tenant's escape attempts (tests/query/golden/escapes.sql), run through the whole query path
as that tenant: each is stopped, by the layer the corpus names, with a clear message that names
nothing of the other tenant's, and no file is written anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakegate.app import App
from lakegate.auth.principals import Principals
from lakegate.errors import GuardError, QueryError
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.permissions import Grants
from tests.ingest.test_pipeline import deliver

GOLDEN = Path(__file__).parent / "golden" / "escapes.sql"


def attempts() -> list[tuple[str, str, str]]:
    """(category, sql, expected) for every block of the corpus."""
    out = []
    category = ""
    for block in GOLDEN.read_text(encoding="utf-8").split("\n--\n"):
        lines = []
        for line in block.strip("\n").splitlines():
            if line.startswith("-- category: "):
                category = line.removeprefix("-- category: ")
            elif not line.startswith("-- "):
                lines.append(line)
        *sql, expected = lines
        out.append((category, "\n".join(sql), expected))
    return out


def test_the_corpus_has_at_least_80_attempts_and_5_in_each_category() -> None:
    found = attempts()
    assert len(found) >= 80
    per_category: dict[str, int] = {}
    for category, _sql, _expected in found:
        per_category[category] = per_category.get(category, 0) + 1
    assert len(per_category) >= 9 and min(per_category.values()) >= 5, per_category


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, QueryEngine, Path]]:
    from lakegate.app import open_app

    root = tmp_path_factory.mktemp("escapes")
    app = open_app(str(root / "home"), create=True)
    deliver(app, "landing/acme/orders/a.csv", b"id,region,amount\n1,EU,10\n")
    deliver(app, "landing/globex/orders/a.csv", b"id,region,amount\n7,US,70\n")
    Principals(app.catalog).add("ann")
    Grants(app.catalog).grant(principal="ann", database="acme", by="test")
    canary = root / "canary"
    canary.mkdir()
    engine = QueryEngine(app.catalog, app.store, app.settings.query)
    yield app, engine, canary
    engine.close()
    app.close()


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("category", "sql", "expected"), attempts(), ids=lambda v: str(v)[:40])
def test_every_escape_is_stopped(
    tenant: tuple[App, QueryEngine, Path], category: str, sql: str, expected: str
) -> None:
    app, engine, canary = tenant
    ann = Principals(app.catalog).require("ann")
    before = _files(app.home.root)
    if expected.startswith("answered: "):  # a catalog probe: it lists what ann may read, nothing else
        answer = engine.execute(sql, access=Grants(app.catalog).access_for(ann)).table
        assert "globex" not in str(answer.to_pylist()).lower()
        assert _files(canary) == set()
        return
    layer, code = expected.removeprefix("stopped: ").split()
    with pytest.raises((GuardError, QueryError)) as err:
        engine.execute(sql.replace("CANARY", str(canary)), access=Grants(app.catalog).access_for(ann))
    stopped_by = "guard" if isinstance(err.value, GuardError) else "engine"
    assert (stopped_by, err.value.code) == (layer, code), err.value.one_line()
    assert err.value.message
    assert err.value.hint or err.value.code == "guard.syntax"  # what to do instead
    foreign = "globex" not in sql.lower() and "gl\u043ebex" not in sql
    if foreign:  # the attempt named nothing of the other tenant's: neither may the answer
        assert "globex" not in err.value.one_line().lower()
    assert _files(canary) == set()
    written = _files(app.home.root) - before
    assert not [p for p in written if "catalog" not in p.name], written  # only the catalog's own files
