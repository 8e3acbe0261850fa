"""The web console in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

import csv
from typing import Any

from tests.console.conftest import Lake


def test_signing_in_and_out(console: Any, lake: Lake) -> None:
    c = console()
    page = c.open()
    page.get_by_label("API token").fill("lg_00000000_wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").get_by_text("the token is not valid").wait_for()
    c.shot("sign-in")
    page.get_by_label("API token").fill(lake.tokens["ann"])
    page.get_by_role("button", name="Sign in").click()
    nav = page.get_by_role("navigation", name="Pages")
    nav.get_by_role("link", name="SQL").wait_for()
    assert nav.get_by_role("link").all_inner_texts() == ["SQL", "Catalog", "Ingestion"]  # no Admin
    page.reload()  # the session survives a reload (the cookie), and the token is nowhere in the page
    page.get_by_role("button", name="Sign out").wait_for()
    assert lake.tokens["ann"] not in page.content()
    cookies = c.context.cookies()
    [session] = [k for k in cookies if k["name"] == "lakegate_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    page.reload()
    page.get_by_role("button", name="Sign in").wait_for()  # signed out for good


def _run(page: Any, sql: str) -> None:
    editor = page.get_by_role("textbox", name="SQL editor")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(sql)
    page.keyboard.press("Control+Enter")


def test_a_query_fills_the_grid_with_100000_rows_and_downloads_as_csv(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("ann")
    page.get_by_role("textbox", name="SQL editor").wait_for()
    _run(
        page,
        "SELECT range AS n, range % 7 AS k, CASE WHEN range % 3 = 0 THEN NULL ELSE 'x' || range END AS label\nFROM range(100000)",
    )
    status = page.get_by_role("status").filter(has_text="rows")
    status.get_by_text("100,000 rows").wait_for()
    grid = page.get_by_role("grid", name="Query result")
    assert grid.get_attribute("aria-rowcount") == "100001"
    rendered = grid.locator(".grid-body [role=row]").count()
    assert 10 < rendered < 120  # virtualized: only the rows in view exist
    first = grid.locator(".grid-body [role=row]").first.locator("[role=gridcell]")
    assert first.all_inner_texts() == ["0", "0", "NULL"]
    assert "null" in (first.nth(2).get_attribute("class") or "")  # NULL is shown apart
    grid.evaluate("g => { g.scrollTop = g.scrollHeight; }")
    page.locator("[role=row][aria-rowindex='100001']").wait_for()
    assert page.locator("[role=row][aria-rowindex='100001'] [role=gridcell]").first.inner_text() == "99999"
    # sort by n, descending: two clicks on its header
    header = grid.get_by_role("columnheader").first
    header.get_by_role("button").click()
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    grid.evaluate("g => { g.scrollTop = 0; }")
    page.wait_for_function(
        "() => document.querySelector('.grid-body [role=row] [role=gridcell]').textContent === '99999'"
    )
    # resize with the keyboard
    before = header.bounding_box()["width"]
    header.get_by_role("button").press("Shift+ArrowRight")
    assert header.bounding_box()["width"] == before + 20
    c.shot("sql-workspace")
    with page.expect_download() as download:
        page.get_by_role("button", name="⤓ CSV").click()
    with open(download.value.path(), newline="") as f:  # noqa: PTH123
        rows = list(csv.reader(f))
    assert rows[0] == ["n", "k", "label"] and len(rows) == 100_001 and rows[1] == ["0", "0", ""]
    assert rows[2] == ["1", "1", "x1"] and download.value.suggested_filename.endswith(".csv")
    # the history lists it, and a chart draws from the result
    page.get_by_role("complementary", name="History and saved queries").get_by_text(
        "SELECT range AS n"
    ).first.wait_for()
    _run(page, "SELECT region, sum(amount) AS total FROM acme.orders GROUP BY region ORDER BY region")
    page.get_by_text("2 rows", exact=True).wait_for()
    page.get_by_role("tab", name="Chart").click()
    page.get_by_label("Y axis").select_option("total")
    chart = page.get_by_role("img", name="bar chart of total by region")
    assert chart.locator("rect.bar").count() == 2
    c.shot("sql-chart")


def test_completion_offers_the_tables_and_columns_the_analyst_may_read(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("ann")
    editor = page.get_by_role("textbox", name="SQL editor")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("SELECT * FROM acme.")
    page.keyboard.press("Control+Space")
    options = page.get_by_role("listbox").get_by_role("option")
    options.first.wait_for()
    assert "orders" in options.all_inner_texts()
    page.keyboard.press("Escape")
    page.keyboard.type("orders WHERE acme.orders.")
    page.keyboard.press("Control+Space")
    options.first.wait_for()
    labels = page.get_by_role("listbox").locator(".cm-completionLabel").all_inner_texts()
    assert {"id", "region", "amount", "note", "channel"} <= set(labels)


def test_a_bad_query_shows_its_error_at_its_place_in_the_editor(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("ann")
    _run(page, "SELECT id,\n       nme\nFROM acme.orders")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "nme" in alert.inner_text()
    marked = page.locator(".cm-lintRange-error")
    marked.wait_for()
    assert marked.inner_text() == "nme"
    page.get_by_role("status").get_by_text("failed").wait_for()
    c.shot("sql-error")


def test_cancelling_a_long_query(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("ann")
    _run(page, "SELECT sum(hash(range)) FROM range(100000000000)")
    cancel = page.get_by_role("button", name="■ Cancel")
    cancel.click()
    page.get_by_text("The query was cancelled.").wait_for(timeout=30_000)
    page.get_by_role("status").get_by_text("cancelled", exact=True).wait_for()
    assert page.get_by_role("button", name="▶ Run").is_enabled()
