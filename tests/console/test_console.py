"""The web console in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

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
