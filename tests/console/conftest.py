"""A running `lakegate up` with two tenants, and Debian's Chromium driven by Playwright.

The daemon is a real subprocess serving the console on a free port; the browser is
/usr/bin/chromium (Debian's package, installed by `make test`), launched through Playwright's
``executable_path`` — nothing is downloaded. Screenshots go to ``artifacts/console/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.request
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.daemon import Daemon

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("LAKEGATE_ARTIFACTS", Path(__file__).parents[2] / "artifacts")) / "console"
FLAGS = [
    "--no-sandbox",  # as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it)"
)


@dataclass
class Lake:
    """The running daemon, its URL and the tokens of its principals."""

    daemon: Daemon
    url: str
    home: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, body: Any = None, *, who: str = "admin") -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.tokens[who]}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def drop(self, key: str, data: bytes) -> None:
        path = self.home / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def settled(self, key: str, timeout: float = 30) -> dict[str, Any]:
        """The arrival of ``key`` once it has an outcome."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for arrival in self.api("GET", "/v1/arrivals?limit=1000")["arrivals"]:
                if arrival["key"] == key and arrival["outcome"] != "processing":
                    return dict(arrival)
            time.sleep(0.1)
        raise AssertionError(f"{key} did not settle: {self.daemon.lines}")


@pytest.fixture(scope="package")
def lake(tmp_path_factory: pytest.TempPathFactory, spark_url: str) -> Iterator[Lake]:
    home = tmp_path_factory.mktemp("console") / "home"
    # Spark answers the queries of workgroups that ask for it (one test); DuckDB all others
    daemon = Daemon(home, env={"LAKEGATE_ENGINES__SPARK__URL": spark_url}, args=["--http-port", "0"])
    try:
        daemon.wait_until(lambda: "web console: http://" in daemon.stderr, timeout=60)
        found = re.search(r"web console: (http://[\d.]+:\d+)/", daemon.stderr)
        assert found is not None, daemon.stderr
        [admin] = [w for w in daemon.stderr.split() if w.startswith("lg_")]
        lake = Lake(daemon, found.group(1), home, {"admin": admin})
        for name, role, prefix in [
            ("ann", "analyst", None),
            ("gil", "analyst", None),
            ("up", "provider", "acme/in"),
        ]:
            lake.api("POST", "/v1/principals", {"name": name, "role": role, "landing_prefix": prefix})
            lake.tokens[name] = lake.api("POST", f"/v1/principals/{name}/tokens", {"note": "browser tests"})[
                "token"
            ]
        lake.api("POST", "/v1/grants", {"principal": "ann", "database": "acme"})
        lake.api("POST", "/v1/grants", {"principal": "gil", "database": "globex"})
        # one after the other: the second file adds a column (schema version 2)
        for key, data in [
            (
                "landing/acme/orders/dt=2026-11-01/a.csv",
                b"id,region,amount,note\n1,EU,9.5,\n2,US,12,gift\n3,EU,,\n",
            ),
            ("landing/acme/orders/dt=2026-11-02/b.csv", b"id,region,amount,note,channel\n4,EU,3.25,,web\n"),
            ("landing/globex/secrets/s.csv", b"id,formula\n1,cola\n"),
        ]:
            lake.drop(key, data)
            assert lake.settled(key)["outcome"] == "accepted"
        lake.api("PUT", "/v1/tables/acme/orders/description", {"text": "Orders of the acme shop"})
        lake.api("PUT", "/v1/tables/acme/orders/description", {"text": "in EUR", "column": "amount"})
        yield lake
    finally:
        daemon.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """A failed browser test shows the end of the daemon's log beside Playwright's error."""
    outcome = yield
    report = outcome.get_result()
    lake = getattr(item, "funcargs", {}).get("lake")
    if report.failed and isinstance(lake, Lake):
        report.sections.append(("daemon log (last 4000 characters)", lake.daemon.stderr[-4000:]))


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


class Console:
    """One browser context (its own cookies) on the console, failing on any console error."""

    def __init__(self, browser: Any, lake: Lake, *, width: int = 1440, height: int = 900) -> None:
        self.lake = lake
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.failed: list[str] = []  # answers of 5xx, with what the daemon logged: a bug to explain
        self.page.on("response", self._note_failure)

    def _note_failure(self, response: Any) -> None:
        if response.status >= 500:
            self.failed.append(f"{response.request.method} {response.url} → {response.status}")

    def open(self, hash_: str = "") -> Any:
        self.page.goto(f"{self.lake.url}/{hash_}")
        return self.page

    def sign_in(self, who: str) -> Any:
        page = self.open()
        page.get_by_label("API token").fill(self.lake.tokens[who])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Sign out").wait_for()
        return page

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def close(self, *, expected_errors: int = 0) -> None:
        self.context.close()
        # a request the server refuses on purpose (a 4xx the test provoked) shows in the browser's
        # console as a failed resource load; anything else — a 5xx, a script error — is a bug
        refused = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")
        unexpected = [e for e in self.errors if not refused.match(e)]
        assert unexpected == [], (unexpected, self.failed, self.lake.daemon.stderr[-3000:])


@pytest.fixture
def console(browser: Any, lake: Lake) -> Iterator[Any]:
    opened: list[Console] = []

    def make(**kwargs: Any) -> Console:
        made = Console(browser, lake, **kwargs)
        opened.append(made)
        return made

    yield make
    for c in opened:
        c.close()
