"""The console's results grid with 100,000 rows against 1,000 (the baseline), in Debian's Chromium.

Measured in the page, through `lakegate up --http-port 0`: from Ctrl-Enter to the rows shown
(query, result page fetch, grid built), the frame time while scrolling through the whole result,
the time to sort by a column, and the page's JavaScript heap. A virtualized grid should scroll
as fast with 100,000 rows as with 1,000; loading grows with the bytes fetched.

    .venv/bin/python bench/console_grid.py
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import Up, median, print_table

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
SQL = (
    "SELECT range AS id, range % 97 AS bucket, 'customer-' || (range % 5000) AS customer,\n"
    "       round(random() * 1000, 2) AS amount, CASE WHEN range % 11 = 0 THEN NULL ELSE now() END AS at\n"
    "FROM range({n})"
)
SCROLL = """async (steps) => {
  const grid = document.querySelector('.grid');
  const frames = [];
  let last = performance.now();
  for (let i = 1; i <= steps; i++) {
    grid.scrollTop = (grid.scrollHeight - grid.clientHeight) * i / steps;
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const now = performance.now();
    frames.push(now - last);
    last = now;
  }
  frames.sort((a, b) => a - b);
  return {median: frames[Math.floor(frames.length / 2)], p95: frames[Math.floor(frames.length * 0.95)]};
}"""


def run_once(page: Any, n: int) -> dict[str, float]:
    editor = page.get_by_role("textbox", name="SQL editor")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(SQL.format(n=n))
    shown = f"{n:,} rows"
    started = time.perf_counter()
    page.keyboard.press("Control+Enter")
    page.get_by_role("status").get_by_text(shown, exact=True).wait_for(timeout=120_000)
    page.wait_for_function("() => document.querySelectorAll('.grid-body [role=row]').length > 0")
    load = (time.perf_counter() - started) * 1000
    scroll = page.evaluate(SCROLL, 100)
    header = page.get_by_role("grid", name="Query result").get_by_role("columnheader").nth(3)
    started = time.perf_counter()
    header.get_by_role("button").click()
    page.wait_for_function("() => document.querySelector('[aria-sort=ascending]') !== null")
    sort = (time.perf_counter() - started) * 1000
    heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0") / 1e6
    return {"load": load, "frame": scroll["median"], "frame95": scroll["p95"], "sort": sort, "heap": heap}


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    home = Path(tempfile.mkdtemp(prefix="lakegate-bench-console-")) / "home"
    up = Up(home, ["--http-port", "0"])
    try:
        url = re.search(r"web console: (http://[\d.:]+)/", up.stderr)
        token = next(w for w in up.stderr.split() if w.startswith("lg_"))
        assert url, up.stderr
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url.group(1) + "/")
            page.get_by_label("API token").fill(token)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("textbox", name="SQL editor").wait_for()
            results: dict[int, list[dict[str, float]]] = {1000: [], 100_000: []}
            run_once(page, 1000)  # warm-up: the editor bundle, the engine
            for _ in range(3):
                for n, runs in results.items():  # in turns, so noise hits both alike
                    runs.append(run_once(page, n))
            browser.close()
    finally:
        up.stop()
    med = {n: {k: median([r[k] for r in runs]) for k in runs[0]} for n, runs in results.items()}
    small, big = med[1000], med[100_000]
    rows = []
    for key, label in [("load", "Ctrl-Enter → rows shown, ms"), ("frame", "scroll frame, median ms"),
                       ("frame95", "scroll frame, p95 ms"), ("sort", "sort by a column, ms"),
                       ("heap", "JS heap, MB")]:  # fmt: skip
        rows.append(
            [label, f"{small[key]:.1f}", f"{big[key]:.1f}", f"{big[key] / max(small[key], 1e-9):.2f}x"]
        )
    print_table(["measure (median of 3)", "1,000 rows", "100,000 rows", "100k / 1k"], rows)


if __name__ == "__main__":
    main()
