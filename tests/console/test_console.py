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


def _type(page: Any, sql: str, *, at_once: bool = False) -> None:
    """Replace the editor's text with ``sql``: typed key by key (completion pops up as it would),
    or ``at_once`` (completion does not get in the way)."""
    page.get_by_role("textbox", name="SQL editor").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    if at_once:
        page.keyboard.insert_text(sql)
    else:
        page.keyboard.type(sql)


def _run(page: Any, sql: str) -> None:
    _type(page, sql, at_once=True)
    page.keyboard.press("Control+Enter")


def test_a_query_fills_the_grid_with_100000_rows_and_downloads_as_csv(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("ann")
    page.get_by_role("textbox", name="SQL editor").wait_for()
    _run(
        page,
        "SELECT range AS n, range % 7 AS k,\n"
        "       CASE WHEN range % 3 = 0 THEN NULL ELSE 'x' || range END AS label\n"
        "FROM range(100000)",
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
    with open(download.value.path(), newline="") as f:
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
    _type(page, "SELECT * FROM acme.")
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


def test_browsing_the_catalog(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("ann")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Catalog").click()
    tree = page.get_by_role("navigation", name="Databases and tables")
    tree.get_by_role("treeitem", name="orders").click()
    page.get_by_role("heading", name="acme.orders").wait_for()
    page.get_by_text("Orders of the acme shop").wait_for()
    columns = page.get_by_role("tabpanel").get_by_role("table")
    assert columns.get_by_role("row").nth(1).get_by_role("cell").first.inner_text() == "id"
    assert "in EUR" in columns.get_by_role("row", name="amount").inner_text()
    assert "partition key" in columns.get_by_role("row", name="dt").inner_text()
    c.shot("catalog-columns")
    page.get_by_role("tab", name="Partitions").click()
    page.get_by_role("cell", name="dt=2026-11-02").wait_for()
    page.get_by_role("tab", name="Files & lineage").click()
    lineage = page.get_by_role("row", name="a.csv")
    lineage.wait_for()
    assert "landing/acme/orders/dt=2026-11-01/a.csv" in lineage.inner_text()
    assert "3" in lineage.get_by_role("cell").nth(2).inner_text()  # rows
    page.get_by_role("tab", name="Sample rows").click()
    sample = page.get_by_role("grid", name="Sample rows of acme.orders")
    sample.locator(".grid-body [role=row]").nth(3).wait_for()
    assert sample.locator(".grid-body [role=row]").count() == 4
    page.get_by_role("tab", name="Schema history").click()
    page.get_by_text("+ channel VARCHAR").wait_for()  # the second file added a column
    c.shot("catalog-history")
    page.get_by_role("button", name="Query in the workspace").click()
    page.get_by_role("textbox", name="SQL editor").get_by_text('FROM "acme"."orders"').wait_for()


def test_a_dropped_file_shows_up_live_and_becomes_queryable(console: Any, lake: Lake) -> None:
    provider = console()
    page = provider.sign_in("up")
    nav = page.get_by_role("navigation", name="Pages")
    assert nav.get_by_role("link").all_inner_texts() == ["Ingestion"]
    page.get_by_role("button", name="Drop files here").wait_for()
    assert page.get_by_label("Folder in landing").input_value() == "acme/in"
    # a real drop event with the file in its DataTransfer
    page.get_by_role("button", name="Drop files here").evaluate(
        """zone => {
            const data = new DataTransfer();
            data.items.add(new File(["id,qty\\n1,5\\n2,7\\n"], "drop.csv", {type: "text/csv"}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }"""
    )
    page.get_by_text("drop.csv → landing/acme/in/drop.csv: uploaded").wait_for()
    arrival = page.locator("tr[data-key='landing/acme/in/drop.csv'][data-outcome='accepted']")
    arrival.wait_for(timeout=30_000)  # live: no reload
    assert "acme.in" in arrival.inner_text()
    # a file that adds a column says so, loudly, where the provider looks
    lake.drop("landing/acme/in/wider.csv", b"id,qty,note\n3,1,late\n")
    wider = page.locator("tr[data-key='landing/acme/in/wider.csv'][data-outcome='accepted']")
    wider.wait_for(timeout=30_000)
    assert wider.locator(".schema-change").inner_text() == "schema v2: + note VARCHAR"
    provider.shot("ingestion-provider")
    analyst = console()
    page = analyst.sign_in("ann")
    _run(page, "SELECT sum(qty) AS q FROM acme.in")
    page.get_by_text("1 rows", exact=True).wait_for()
    assert page.get_by_role("grid").locator(".grid-body [role=gridcell]").inner_text() == "13"


def test_a_quarantined_file_shows_its_reason_and_replays_after_the_rule_is_fixed(
    console: Any, lake: Lake
) -> None:
    c = console()
    page = c.sign_in("admin")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Ingestion").click()
    lake.drop("landing/acme/sales_20261125.csv", b"id,amount\n1,5\n")  # no table folder, no dataset
    row = page.locator("tr[data-key='landing/acme/sales_20261125.csv'][data-outcome='quarantined']")
    row.wait_for(timeout=30_000)
    assert "reject.route" in row.inner_text()
    held = page.get_by_role("region", name="Quarantine").locator(
        "tr[data-key='landing/acme/sales_20261125.csv']"
    )
    held.wait_for()
    assert "reject.route" in held.inner_text()
    c.shot("ingestion-admin")
    (lake.home / "lakegate.yaml").write_text(
        'datasets:\n  - name: sales\n    key: "landing/{customer}/sales_{date:%Y%m%d}.csv"\n'
        '    database: "{customer}"\n    table: sales\n    partition: {dt: "{date:%Y-%m-%d}"}\n'
    )
    lake.daemon.wait_until(lambda: "reloaded lakegate.yaml: 1 dataset," in lake.daemon.stderr, timeout=30)
    held.get_by_role("button", name="Replay").click()
    page.get_by_text("Replayed landing/acme/sales_20261125.csv").wait_for()
    accepted = page.locator("tr[data-key='landing/acme/sales_20261125.csv'][data-outcome='accepted']")
    accepted.wait_for(timeout=30_000)
    assert "acme.sales" in accepted.inner_text() and "dt=2026-11-25" in accepted.inner_text()
    held.wait_for(state="detached")
    # purging asks first, then deletes the quarantined copy; the arrival stays on record
    lake.drop("landing/acme/orders/broken.csv", b"")
    broken = page.get_by_role("region", name="Quarantine").locator(
        "tr[data-key='landing/acme/orders/broken.csv']"
    )
    broken.wait_for(timeout=30_000)
    assert "reject.empty" in broken.inner_text()
    broken.get_by_role("button", name="Purge").click()
    page.get_by_role("dialog").get_by_role("button", name="Purge").click()
    page.get_by_text("Purged landing/acme/orders/broken.csv").wait_for()
    broken.wait_for(state="detached")
    assert not list((lake.home / "quarantine").rglob("broken.csv"))
    page.locator("tr[data-key='landing/acme/orders/broken.csv'][data-outcome='quarantined']").wait_for()


def test_an_analyst_sees_no_other_tenant_anywhere(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("ann")
    seen = []
    for hash_ in (
        "#/sql",
        "#/catalog",
        "#/catalog/acme/orders",
        "#/ingest",
        "#/catalog/globex/secrets",
        "#/admin",
    ):
        page.goto(f"{lake.url}/{hash_}")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        seen.append(page.locator("body").inner_text())
    assert page.url.endswith("#/sql")  # no admin page for analysts
    foreign = [text for text in seen if "globex" in text or "secrets" in text or "formula" in text]
    # the only mention is the name ann typed into the address herself, refused as unknown
    assert len(foreign) == 1 and "unknown table globex.secrets" in foreign[0] and "formula" not in foreign[0]
    # completion offers no foreign database
    _type(page, "SELECT * FROM glo")
    page.keyboard.press("Control+Space")
    page.wait_for_timeout(500)
    assert "globex" not in " ".join(page.locator(".cm-completionLabel").all_inner_texts())
    _run(page, "SELECT * FROM globex.secrets")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "cola" not in page.locator("body").inner_text()
    # the other tenant's own analyst does see it
    other = console()
    page = other.sign_in("gil")
    page.goto(f"{lake.url}/#/catalog")
    page.get_by_role("treeitem", name="secrets").wait_for()
    assert "acme" not in page.get_by_role("navigation", name="Databases and tables").inner_text()


def test_admin_pages_create_a_principal_show_its_token_once_and_revoke_it(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("admin")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Admin").click()
    page.get_by_role("button", name="New workgroup").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("finance")
    dialog.get_by_label("Max rows").fill("1000")
    dialog.get_by_role("button", name="Save").click()
    page.get_by_role("row", name="finance").wait_for()
    page.get_by_role("button", name="New principal").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("dora")
    dialog.get_by_label("Workgroup").select_option("finance")
    dialog.get_by_role("button", name="Create").click()
    row = page.get_by_role("region", name="principals").get_by_role("row", name="dora")
    row.wait_for()
    assert "finance" in row.inner_text()
    row.get_by_role("button", name="New token").click()
    page.get_by_role("dialog").get_by_label("Note").fill("for the browser test")
    page.get_by_role("dialog").get_by_role("button", name="Create token").click()
    secret = page.get_by_role("dialog").get_by_label("The new token").input_value()
    assert secret.startswith("lg_")
    c.shot("admin-token-once")
    page.get_by_role("dialog").get_by_role("button", name="Done").click()
    assert secret not in page.content()  # shown once, then gone from the page
    nodes = page.get_by_role("region", name="nodes")
    this_node = nodes.get_by_role("row", name="(this one)")
    this_node.wait_for()  # the node serving the console, alive, and where it serves
    assert "up" in this_node.inner_text() and lake.url in this_node.inner_text()
    assert "1 of 1 nodes up" in nodes.inner_text()
    page.get_by_role("button", name="New grant").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Grantee").fill("dora")
    dialog.get_by_label("Database").fill("acme")
    dialog.get_by_label("Columns", exact=True).fill("id, amount")
    dialog.get_by_role("button", name="Grant").click()
    page.get_by_role("region", name="grants").get_by_role("row", name="dora").wait_for()
    # dora signs in with the token she was given, and reads only her columns
    dora = console()
    dora.lake.tokens["dora"] = secret
    other = dora.sign_in("dora")
    _run(other, "SELECT * FROM acme.orders ORDER BY id")
    grid = other.get_by_role("grid", name="Query result")
    grid.wait_for()
    assert [n.strip() for n in grid.locator(".grid-name").all_inner_texts()] == ["id", "amount"]
    # revoking the token ends her session at once
    token_id = secret.split("_")[1]
    tokens = page.get_by_role("region", name="tokens")
    page.reload()
    tokens.get_by_role("button", name=f"Revoke token {token_id}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    tokens.get_by_role("row", name=token_id).get_by_text("revoked").wait_for()
    other.reload()
    other.get_by_role("button", name="Sign in").wait_for()
    c.shot("admin")


def test_the_console_works_from_the_keyboard_and_in_a_narrow_window(console: Any, lake: Lake) -> None:
    c = console(width=420, height=860)
    page = c.sign_in("ann")
    page.get_by_role("textbox", name="SQL editor").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 420  # nothing runs off the side
    # from the page's top: skip link, then the pages, reached with Tab alone
    page.evaluate("document.body.tabIndex = -1; document.body.focus()")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Catalog":
            break
    page.keyboard.press("Enter")
    page.get_by_role("navigation", name="Databases and tables").wait_for()
    tree_link = page.get_by_role("treeitem", name="orders")
    tree_link.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="acme.orders").wait_for()
    # the detail tabs: arrow keys move between them
    page.get_by_role("tab", name="Columns").focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="Partitions").get_attribute("aria-selected") == "true"
    page.get_by_role("cell", name="dt=2026-11-01").wait_for()
    page.keyboard.press("End")
    page.get_by_text("Version 2").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    c.shot("narrow-catalog")
    # an empty state says what to do
    page.goto(f"{lake.url}/#/sql")
    page.get_by_role("textbox", name="SQL editor").wait_for()
    _run(page, "SELECT 1 AS one WHERE false")
    page.get_by_text("No rows.").wait_for()
    c.shot("narrow-sql")


def test_saved_queries_come_back_after_a_reload(console: Any, lake: Lake) -> None:
    c = console()
    page = c.sign_in("ann")
    _type(page, "SELECT count(*) AS n FROM acme.orders", at_once=True)
    page.get_by_role("button", name="Save…").click()
    page.get_by_role("dialog").get_by_label("Name").fill("order count")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    side = page.get_by_role("complementary", name="History and saved queries")
    side.get_by_role("button", name="order count", exact=True).wait_for()
    _type(page, "SELECT 42", at_once=True)
    page.reload()
    side.get_by_role("button", name="order count", exact=True).click()
    assert "FROM acme.orders" in page.get_by_role("textbox", name="SQL editor").inner_text()
    page.keyboard.press("Control+Enter")
    page.get_by_text("1 rows", exact=True).wait_for()
    side.get_by_role("button", name="Delete saved query order count").click()
    side.get_by_text("No saved queries.").wait_for()


def test_a_query_answered_by_spark_says_so_in_the_result_and_the_history(console: Any, lake: Lake) -> None:
    lake.api("PUT", "/v1/workgroups/big", {"engine": "spark"})
    lake.api("POST", "/v1/principals", {"name": "sam", "role": "analyst", "workgroup": "big"})
    lake.tokens["sam"] = lake.api("POST", "/v1/principals/sam/tokens", {"note": "browser tests"})["token"]
    lake.api("POST", "/v1/grants", {"principal": "sam", "database": "acme"})
    c = console()
    page = c.sign_in("sam")
    page.get_by_role("textbox", name="SQL editor").wait_for()
    _run(page, "SELECT region, count(*) AS n FROM acme.orders GROUP BY region ORDER BY region")
    # a Spark session's first query in a cold JVM takes 15-25 s on two cores
    page.get_by_text("2 rows", exact=True).wait_for(timeout=90_000)
    status = page.locator(".run-status")
    status.get_by_text("on spark").wait_for()
    assert "0 B scanned" not in status.inner_text()  # the files' size: Spark does not say
    side = page.get_by_role("complementary", name="History and saved queries")
    side.get_by_text("· on spark").first.wait_for()
    c.shot("sql-on-spark")


def test_the_api_docs_are_served_by_lakegate_itself_offline(console: Any, lake: Lake) -> None:
    """/docs is Swagger UI from the package: with every request outside lakegate refused (no CDN,
    no network), it shows the API's operations."""
    c = console()
    page = c.page
    outside: list[str] = []

    def only_lakegate(route: Any) -> None:
        if route.request.url.startswith(lake.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_lakegate)
    page.goto(f"{lake.url}/docs")
    page.locator(".swagger-ui .opblock-summary-path", has_text="/v1/whoami").first.wait_for()
    assert page.title() == "lakegate HTTP API" and outside == []
    c.shot("api-docs")


def test_grid_columns_fit_their_content_and_the_chart_picks_time_and_a_measure(
    console: Any, lake: Lake
) -> None:
    c = console()
    page = c.sign_in("admin")
    _run(
        page,
        "SELECT DATE '2026-11-01' + CAST(id AS INTEGER) AS day, region, id, amount, "
        "'a rather long note that the grid cuts with an ellipsis, as it is far wider than the rest "
        "of the columns together' AS note FROM acme.orders ORDER BY id",
    )
    page.get_by_text("4 rows", exact=True).wait_for()
    cells = page.locator(".grid-body [role=row]").first.locator("[role=gridcell]")
    day = cells.nth(0)
    assert day.inner_text() == "2026-11-02"
    # the whole date shows, and its column is not much wider than it
    assert day.evaluate("e => e.scrollWidth <= e.clientWidth") and day.bounding_box()["width"] < 140
    assert cells.nth(2).bounding_box()["width"] < 100  # a short number: a narrow column
    assert 300 <= cells.nth(4).bounding_box()["width"] <= 480  # a long text: bounded, cut
    page.get_by_role("tab", name="Chart").click()
    assert page.get_by_label("X axis").input_value() == "0"  # day: a time column on x
    assert page.get_by_label("Y axis").input_value() == "3"  # amount: a measure, not the id
    assert page.get_by_label("Chart type").input_value() == "line"
    page.get_by_role("img", name="line chart of amount by day").wait_for()
    c.shot("sql-chart-defaults")
