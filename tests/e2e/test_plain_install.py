"""The README's commands in a plain `pip install .` (``make plain``: no dev dependencies, no
pandas): a remote `lakegate sql --server`, `lakegate.connect(server=…)`, and `fetch_df()` saying
what to install instead of failing with a bare ModuleNotFoundError."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.daemon import Daemon

PLAIN = Path(__file__).resolve().parents[2] / ".venv-plain" / "bin"


@pytest.fixture(scope="module")
def plain() -> Path:
    if not (PLAIN / "lakegate").exists():
        pytest.fail("no plain install at .venv-plain: `make plain` makes it (`make test` does)")
    return PLAIN


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


def test_the_readme_remote_commands_work_in_a_plain_install(plain: Path, tmp_path: Path) -> None:
    assert run(str(plain / "python"), "-c", "import pandas").returncode != 0  # truly plain
    home = tmp_path / "home"
    daemon = Daemon(home, args=["--http-port", "0"], python=str(plain / "python"))
    try:
        daemon.wait_until(lambda: "lakegate is up" in daemon.stderr, timeout=60)
        url = re.search(r"web console: (http://\S+?)/ ", daemon.stderr)
        token = re.search(r"shown only now:\n\s+(\S+)", daemon.stderr)
        assert url and token, daemon.stderr
        data = tmp_path / "orders.csv"
        data.write_text("customer,amount\nann,5\nbob,7\n")
        put = run(str(plain / "lakegate"), "put", str(data), "--to", "shop.orders", "--home", str(home))
        assert put.returncode == 0, put.stderr
        daemon.wait_until(lambda: "accepted" in daemon.stderr + "\n".join(daemon.lines), timeout=60)
        said = run(
            str(plain / "lakegate"), "sql", "--server", url[1], "--token", token[1],
            "SELECT sum(amount) AS total FROM shop.orders",
        )  # fmt: skip
        assert said.returncode == 0 and "12" in said.stdout, said.stderr
        script = (
            "import lakegate\n"
            f"con = lakegate.connect(server={url[1]!r}, token={token[1]!r})\n"
            "cur = con.cursor()\n"
            "cur.execute('SELECT customer FROM shop.orders ORDER BY customer')\n"
            "print(cur.fetchall())\n"
            "cur.execute('SELECT 1')\n"
            "try:\n"
            "    cur.fetch_df()\n"
            "except ImportError as exc:\n"
            "    print('refused:', exc)\n"
        )
        done = run(str(plain / "python"), "-c", script)
        assert done.returncode == 0, done.stderr
        assert "[('ann',), ('bob',)]" in done.stdout
        assert (
            "refused: fetch_df() needs pandas" in done.stdout
            and "pip install 'lakegate[pandas]'" in done.stdout
        )
    finally:
        daemon.stop()
