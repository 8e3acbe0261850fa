"""Failures in lakegate's words, through the one door: the place in the statement, and what was
probably meant — drawn only from what the caller may read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakegate.app import App
from lakegate.auth.principals import Principal, Principals
from lakegate.errors import LakegateError
from lakegate.ingest.pipeline import Pipeline
from lakegate.ingest.routing import Router
from lakegate.query.engines.duck_engine import QueryEngine
from lakegate.query.gateway import Gateway
from lakegate.query.permissions import Grants
from tests.ingest.test_pipeline import deliver


@pytest.fixture
def gateway(app: App) -> Iterator[Gateway]:
    deliver(
        app, "landing/shop/orders/a.csv", b"customer,amount,region,secret_margin\nann,5,EU,1\nbob,7,US,2\n"
    )
    deliver(app, "landing/hr/pay/a.csv", b"name,salary\nann,1\n")
    made = Gateway(app.catalog, QueryEngine(app.catalog, app.store, app.settings.query))
    yield made
    made.close()


def _admin(app: App) -> Principal:
    people = Principals(app.catalog)
    if people.get("root") is None:
        people.add("root", role="admin")
    return people.require("root")


def failure(gateway: Gateway, who: Principal, sql: str) -> LakegateError:
    with pytest.raises(LakegateError) as err:
        gateway.run(who, sql)
    streamed = None
    try:
        run = gateway.stream(who, sql)
        assert run.schema is not None
        list(run)
    except LakegateError as exc:
        streamed = exc
    assert streamed is not None and streamed.message == err.value.message  # every way in says the same
    return err.value


def test_a_misspelled_keyword_is_named_where_it_is(app: App, gateway: Gateway) -> None:
    said = failure(gateway, _admin(app), "SELEC * FROM shop.orders")
    assert said.code == "guard.syntax" and "sqlglot" not in said.message and "<class" not in said.message
    assert "line 1, column 1: `SELEC` is no SQL keyword — did you mean `SELECT`?" in said.message
    said = failure(gateway, _admin(app), "SELECT customer\nFORM shop.orders")
    assert "line 2, column 1: `FORM`" in said.message and "`FROM`" in said.message


def test_an_unknown_column_suggests_the_nearest_the_caller_can_read(app: App, gateway: Gateway) -> None:
    said = failure(gateway, _admin(app), "SELECT amont FROM shop.orders")
    assert said.code == "query.failed" and "Binder Error" not in said.message
    assert (
        "column `amont` does not exist in shop.orders (line 1, column 8) — did you mean `amount`?"
        in said.message
    )
    assert said.details["position"] == {"line": 1, "column": 8, "length": 5}


def test_suggestions_never_show_what_grants_hide(app: App, gateway: Gateway) -> None:
    people = Principals(app.catalog)
    people.add("ann", role="analyst")
    Grants(app.catalog).grant(
        principal="ann", database="shop", columns=["secret_margin"], exclude=True, by="t"
    )
    ann = people.require("ann")
    said = failure(gateway, ann, "SELECT secret_margn FROM shop.orders")
    assert "secret_margin" not in said.message + (said.hint or "")
    assert "customer, amount, region" in (said.hint or "")
    said = failure(gateway, ann, "SELECT * FROM hr.pays")  # hr is not hers: not suggested
    assert said.code == "guard.table_unknown" and "hr.pay" not in said.message.replace("hr.pays", "")
    said = failure(gateway, ann, "SELECT * FROM shop.order")
    assert "did you mean `shop.orders`?" in said.message


def test_an_unknown_table_or_function_suggests_the_nearest(app: App, gateway: Gateway) -> None:
    said = failure(gateway, _admin(app), "SELECT * FROM shop.order")
    assert "unknown table 'shop.order' (line 1, column 15) — did you mean `shop.orders`?" in said.message
    said = failure(gateway, _admin(app), "SELECT lenght(customer) FROM shop.orders")
    assert "unknown function lenght() (line 1, column 8) — did you mean length()?" in said.message
    said = failure(gateway, _admin(app), "SELECT read_csv('/etc/passwd')")  # exists: refused as such
    assert "read_csv() is not allowed" in said.message


def test_a_value_of_the_wrong_type_says_the_type_expected(app: App, gateway: Gateway) -> None:
    said = failure(gateway, _admin(app), "SELECT * FROM shop.orders WHERE amount = 'lots'")
    assert "the text 'lots' cannot be read as BIGINT (line 1, column 43)" in said.message


def test_sum_of_a_column_a_file_made_text_names_that_file(app: App, gateway: Gateway) -> None:
    app.store.write("landing/shop/orders/b.csv", b"customer,amount,region,secret_margin\ncy,n/a,EU,3\n")
    Pipeline(app.catalog, app.store, router=Router([], schema_evolution="loose")).process(
        "landing/shop/orders/b.csv"
    )
    said = failure(gateway, _admin(app), "SELECT sum(amount) FROM shop.orders")
    assert "sum() does not take a VARCHAR argument" in said.message
    assert "`amount` is text in shop.orders because lake/shop/orders/b.csv holds text in it" in said.message
    assert "TRY_CAST(amount AS DOUBLE)" in (said.hint or "")


def test_a_postgresql_client_still_gets_the_sqlstate_of_what_failed(app: App, gateway: Gateway) -> None:
    from lakegate.pgwire.sqlstate import sqlstate

    assert sqlstate(failure(gateway, _admin(app), "SELECT amont FROM shop.orders")) == "42703"
    assert sqlstate(failure(gateway, _admin(app), "SELECT sum(customer) FROM shop.orders")) == "42883"
    assert sqlstate(failure(gateway, _admin(app), "SELECT * FROM shop.orders WHERE amount = 'x'")) == "22P02"
