"""Every bomb of issue 20, in sequence, against one `lakegate up`: what each got, and the memory it
cost — the daemon's peak resident memory over its idle size (target: under 1 GB for any single
input), and the peak of the whole process tree (daemon, judge and engine processes).

Files are copied into landing as a provider would; queries and bodies go over HTTP with an
analyst's token. The daemon's peak is its kernel high-water mark (VmHWM), reset before each input
(clear_refs 5); the tree's is sampled every 20 ms. Each input's verdict is checked, and the daemon
must still answer /v1/health and take a good file at the end.
Usage: python bench/hostile_inputs.py
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from _common import Up, print_table

MB = 1024**2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (children of any of its threads)."""
    out, pending = [pid], [pid]
    while pending:
        parent = pending.pop()
        children: list[int] = []
        try:
            for task in Path(f"/proc/{parent}/task").iterdir():
                children += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
        out += children
        pending += children
    return out


class TreeSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(rss_kb(p) for p in tree(self.pid)))
            time.sleep(0.02)


def varint(n: int) -> bytes:
    zigzag, out = n << 1, bytearray()
    while True:
        byte, zigzag = zigzag & 0x7F, zigzag >> 7
        out.append(byte | (0x80 if zigzag else 0))
        if not zigzag:
            return bytes(out)


def lying_parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(98_765))}), buffer, compression="none")
    data = buffer.getvalue()
    length = int.from_bytes(data[-8:-4], "little")
    footer = data[-8 - length : -8].replace(varint(98_765), varint(2**60))
    return data[: -8 - length] + footer + len(footer).to_bytes(4, "little") + b"PAR1"


WIDE = (",".join(f"c{i}" for i in range(100_000)) + "\n" + "1," * 99_999 + "1\n").encode()
MIXED = b"id,n\n1,\xc3\xa9\n" + "2,café\n".encode("latin-1") + "3,“q”\n".encode("cp1252")


def not_utf8_name(beside: Path) -> None:
    Path(os.fsdecode(os.fsencode(beside.parent) + b"/caf\xe9.csv")).write_bytes(b"a\n1\n")


def bomb_source() -> bytes:
    return b"a,b\n" + b"1,2\n" * 100_000 + (b"0" * 1023 + b"\n") * (300 * 1024)  # 300 MB after the rows


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="lakegate-hostile-"))
    home = work / "home"
    port = free_port()
    up = Up(home, ["--http-port", str(port)], INGEST__SETTLE_SECONDS="0.2", QUERY__MEMORY_LIMIT="1GB")
    from lakegate.app import open_app
    from lakegate.auth.principals import Principals

    app = open_app(home)
    people = Principals(app.catalog)
    people.add("ann", role="analyst")
    token, _ = people.create_token("ann")
    landing = home / "landing"
    daemon = up.proc.pid
    time.sleep(2)
    idle = rss_kb(daemon)
    idle_tree = sum(rss_kb(p) for p in tree(daemon))
    lines_before = [0]

    def deliver(path: str, data: bytes | Callable[[Path], None]) -> Callable[[], str]:
        target = landing / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if callable(data):
            data(target)
        else:
            target.write_bytes(data)
        return wait_line

    def wait_line() -> str:
        deadline = time.monotonic() + 300
        while len(up.lines) <= lines_before[0]:
            if time.monotonic() > deadline or up.proc.poll() is not None:
                return f"(no verdict; daemon {'dead' if up.proc.poll() is not None else 'alive'})"
            time.sleep(0.05)
        lines_before[0] = len(up.lines)
        line = up.lines[-1].strip()
        return line.split(": ")[1] if line.startswith("quarantined") else line.split()[0]

    def unread(path: str, announced: int) -> Callable[[], str]:
        """Announce a body of ``announced`` bytes, send 64 KB of it, and read the answer."""

        def call() -> str:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
                head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {announced}\r\n\r\n"
                conn.sendall(head.encode() + b" " * 65536)
                answer = conn.recv(65536).decode(errors="replace")
            status = answer.split(" ", 2)[1] if answer else "nothing"
            body = answer.partition("\r\n\r\n")[2]
            return f"{status} {json.loads(body)['error']['code']}" if body else status

        return call

    def http(path: str, body: bytes, auth: bool = True) -> Callable[[], str]:
        def call() -> str:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST")
            request.add_header("Content-Type", "application/json")
            if auth:
                request.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(request, timeout=300) as answer:
                    return f"{answer.status} ok"
            except urllib.error.HTTPError as exc:
                return f"{exc.code} {json.loads(exc.read())['error']['code']}"
            except (urllib.error.URLError, ConnectionError) as exc:
                return f"connection failed: {exc}"

        return call

    def query(sql: str) -> Callable[[], str]:
        return http("/v1/query", json.dumps({"sql": sql}).encode())

    source = bomb_source()
    cases: list[tuple[str, Callable[[], Callable[[], str]]]] = [
        ("JSON nested 100,000 deep", lambda: deliver("s/deep/a.json", b"[" * 100_000 + b"]" * 100_000)),
        (
            "NDJSON line nested 50,000 deep",
            lambda: deliver(
                "s/deepnd/a.ndjson", b'{"a":1}\n' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"\n"
            ),
        ),
        ("gzip: 300 MB after a CSV", lambda: deliver("s/gz/a.csv.gz", gzip.compress(source, 9))),
        ("bzip2: 300 MB after a CSV", lambda: deliver("s/bz/a.csv.bz2", bz2.compress(source, 9))),
        (
            "zstd: 300 MB after a CSV",
            lambda: deliver("s/zst/a.csv.zst", pa.compress(source, codec="zstd", asbytes=True)),
        ),
        ("Parquet footer claiming 2^60 rows", lambda: deliver("s/liar/a.parquet", lying_parquet())),
        (
            "500 MB CSV in one line",
            lambda: deliver("s/oneline/a.csv", lambda p: p.write_bytes(b"a," + b"x" * (500 * MB))),
        ),
        ("100,000-column CSV", lambda: deliver("s/wide/a.csv", WIDE)),
        ("UTF-8 with Latin-1 and cp1252 rows", lambda: deliver("s/enc/a.csv", MIXED)),
        ("name that is not UTF-8", lambda: deliver("s/names/x", not_utf8_name)),
        ("255-byte name", lambda: deliver("s/names/" + "n" * 243 + ".csv.bz2", bz2.compress(b"a\n1\n"))),
        ("link to /etc/passwd", lambda: deliver("fs/x/passwd.csv", lambda p: p.symlink_to("/etc/passwd"))),
        (
            "query: json_structure of 100,000-deep JSON",
            lambda: query("SELECT json_structure(repeat('[', 100000) || repeat(']', 100000))"),
        ),
        ("query: a 2 GB string", lambda: query("SELECT length(repeat('x', 2000000000)) AS n")),
        (
            "query: a 100-million-element list",
            lambda: query("SELECT count(*) FROM (SELECT unnest(range(100000000)))"),
        ),
        ("query: 1,000 nested parentheses", lambda: query("SELECT " + "(" * 1000 + "1" + ")" * 1000)),
        ("query: 10 MB of SQL", lambda: query("SELECT 1" + ", 1" * 3_500_000)),
        ("json_serialize_plan of SQL", lambda: query("SELECT json_serialize_plan('SELECT 1')")),
        ("100 MB body without a token", lambda: unread("/v1/query", 100 * MB)),
    ]
    rows = []
    for name, make in cases:
        Path(f"/proc/{daemon}/clear_refs").write_text("5")  # the high-water mark starts again here
        started = time.monotonic()
        with TreeSampler(daemon) as sampler:
            waiting = make()
            verdict = waiting()
        seconds = time.monotonic() - started
        over = rss_kb(daemon, "VmHWM") - idle
        rows.append([name, verdict[:48], f"{seconds:.1f}", f"{over / 1024:.0f}",
                     f"{(sampler.peak - idle_tree) / 1024:.0f}", f"{over / (1024 * 1024):.2f}"])  # fmt: skip
    alive = http("/v1/query", json.dumps({"sql": "SELECT 1"}).encode())()
    good = deliver("s/good/a.csv", b"id\n1\n")()
    print(f"idle: daemon {idle / 1024:.0f} MB, tree {idle_tree / 1024:.0f} MB")
    print_table(
        ["input", "verdict", "s", "daemon MB over idle", "tree MB over idle", "daemon over idle / 1 GB"], rows
    )
    print(f"afterwards: a query answers {alive!r}; a good file is {good!r}; daemon exit {up.proc.poll()}")
    up.stop()


if __name__ == "__main__":
    main()
