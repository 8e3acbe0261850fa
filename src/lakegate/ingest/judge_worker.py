"""Delivered files are parsed in a judge process, never in the daemon.

A delivered file is untrusted input to DuckDB's readers. Some inputs make a reader crash the
process it runs in (a JSON document nested 100,000 levels deep overflows the stack) or take
more memory than the machine can give. So the parsing of a file — inference, the dataset's rules,
the schema guard and the derived Parquet copy — is handed to a judge process, which judges one
file at a time and sends back the verdict (``Judges`` keeps idle ones for the next file). When
one dies, the file is known (it was the only one there): it is quarantined with
``reject.crashed_worker``, a new process takes the next file, and the daemon goes on. Its death
costs one file, never the daemon, and no restart can loop on it.

The process has an address-space cap (``ingest.judge_memory_mb``), so a file that needs more
memory ends in a clean verdict rather than the kernel's out-of-memory killer taking the daemon,
and a time limit (``ingest.judge_timeout_seconds``) after which it is stopped.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lakegate.child_process import Child, Died, child_pipe, die_with_parent
from lakegate.crawler.detect import Detected
from lakegate.duck.readers import FilePlan
from lakegate.errors import LakegateError, Rejection
from lakegate.ingest import bounds
from lakegate.ingest.bounds import Limits
from lakegate.ingest.routing import Route
from lakegate.keys import derived_key
from lakegate.schema import Column
from lakegate.storage import ObjectStore
from lakegate.storage.base import upload

logger = logging.getLogger(__name__)

_START_SECONDS = 120.0
_OUT_OF_MEMORY = ("Out of Memory", "std::bad_alloc", "failed to allocate", "MemoryError")


@dataclass
class Job:
    """One file to judge, with everything the judge process needs to know about it."""

    route: Route
    read_from: str  # a local path
    key: str
    size: int
    detected: Detected
    schema: tuple[list[Column], int] | None  # the table's, for the schema guard (None: new table)
    policy: str
    admit: bool  # False for a duplicate: judged, but neither admitted nor copied
    copy_folder: str  # where the derived Parquet copy is written, if the file needs one
    limits: Limits = field(default_factory=Limits)
    setup: tuple[str, ...] = ()  # statements that let the engine read ``read_from`` (S3 secrets)
    accelerate: bool = False  # a large file's copy for speed is written in the judging read


@dataclass
class Verdict:
    plan: FilePlan
    warnings: list[str]
    copy_reason: str = ""  # why queries read a derived copy ("": the delivered file)
    copy_file: str = ""  # the derived copy written under the job's copy_folder
    seconds: float = 0.0
    accelerated_file: str = ""  # a verified copy for speed, written in the judging read


@dataclass
class _Failure:
    kind: str  # rejection | error | bug
    message: str
    code: str = ""
    hint: str | None = None
    transient: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def run(job: Job, conn: Any) -> Verdict:
    """Judge ``job`` with the engine ``conn`` (in the judge process).

    Raises:
        Rejection: the first check the file fails.
    """
    from lakegate.crawler.normalize import write_parquet
    from lakegate.ingest.judging import judged
    from lakegate.ingest.schema_guard import admit_file

    started = time.monotonic()
    if "://" not in job.read_from:
        bounds.check(job.read_from, job.detected, job.size, job.limits)
    copy_to = f"{job.copy_folder}/accelerated.parquet" if _copies_while_judged(job) else None
    with judged(
        conn, job.route, job.read_from, key=job.key, size=job.size, detected=job.detected, copy_to=copy_to
    ) as found:
        copy_file = accelerated = ""
        if job.admit:
            admit_file(conn, found.readable, found.plan, job.schema, job.policy)
            if found.copy_reason:
                copy_file = f"{job.copy_folder}/copy.parquet"
                write_parquet(conn, found.readable, found.plan, copy_file)
            elif found.plan.copy is not None and found.plan.copy[1] == found.plan.signature():
                accelerated = found.plan.copy[0]  # written for the plan the file was taken with
        seconds = time.monotonic() - started
        return Verdict(found.plan, found.warnings, found.copy_reason, copy_file, seconds, accelerated)


def _copies_while_judged(job: Job) -> bool:
    """Whether a file's Parquet copy for speed is written in the read that judges it (the job
    asks for it): a large local CSV or JSON file to be taken (small files, and files on S3, are
    copied in the background)."""
    from lakegate import duck

    large = job.size >= duck.LARGE_FILE and job.detected.format in ("csv", "json")
    return job.accelerate and job.admit and large and "://" not in job.read_from


def store_copy(store: ObjectStore, found: Verdict, target: str, sha: str) -> dict[str, Any]:
    """Write the derived copy a verdict brought to the store, before its file is taken: one that
    queries need (``{"key", "why"}``), or one made for speed in the judging read (``"accelerated"``,
    with its ``sha256``, as the accelerator records its own); ``{}`` when there is none."""
    if found.copy_file:
        key = derived_key(target, sha)
        with open(found.copy_file, "rb") as copy:
            store.write(key, copy)
        return {"key": key, "why": found.copy_reason}
    if found.accelerated_file:
        key = derived_key(target, sha).removesuffix(".parquet") + f".{secrets.token_hex(4)}.parquet"
        _size, copied = upload(store, key, found.accelerated_file)
        return {"key": key, "why": "", "accelerated": True, "sha256": copied}
    return {}


def _judge(job: Job) -> Verdict | _Failure:
    """Runs in the judge process: ``run``, with every failure made something a pipe can carry."""
    from lakegate import duck

    try:
        conn = _connection(job.size)
        for statement in job.setup:
            conn.execute(statement)
        return run(job, conn)
    except Rejection as exc:
        if any(marker in exc.message for marker in _OUT_OF_MEMORY):  # the engine's, not the file's
            return _out_of_memory(exc.message)
        return _Failure("rejection", exc.message, exc.code, exc.hint, False, exc.details)
    except LakegateError as exc:
        return _Failure("error", exc.message, exc.code, exc.hint, exc.transient, exc.details)
    except MemoryError:
        return _out_of_memory("MemoryError")
    except Exception as exc:
        text = f"{type(exc).__name__}: {duck.engine_message(exc)}"
        if any(marker in str(exc) for marker in _OUT_OF_MEMORY):
            return _out_of_memory(text)
        return _Failure("bug", text)


def _out_of_memory(text: str) -> _Failure:
    return _Failure(
        "error", f"reading the file ran out of memory ({text})", "ingest.judge_memory", transient=True
    )


_connections: dict[str, Any] = {}
_engine_memory = ""  # the judge process's DuckDB memory limit: half its address-space cap


def _connection(size: int) -> Any:
    from lakegate import duck

    name = "small" if size < duck.LARGE_FILE else "large"
    if name not in _connections:
        _connections[name] = duck.connect(
            threads=1 if name == "small" else duck.large_file_threads(), memory_limit=_engine_memory or None
        )
    return _connections[name]


def main() -> None:
    """``python -m lakegate.ingest.judge_worker <daemon pid> <address-space cap>``: a judge
    process. One job in, one verdict out, until the pipe closes."""
    pipe = child_pipe()
    memory_bytes = int(sys.argv[2])
    die_with_parent(int(sys.argv[1]), memory_bytes)
    if memory_bytes:
        global _engine_memory
        _engine_memory = f"{memory_bytes // 2 // 1024**2}MB"
    import lakegate.ingest.judging  # noqa: F401 - loaded before the first file's clock starts

    _connection(0).execute("SELECT 1")
    pipe.send("ready")
    while True:
        try:
            job = pipe.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        pipe.send(_judge(job))


class JudgeCrashed(LakegateError):
    code = "ingest.judge_crashed"


class JudgeStart(LakegateError):
    """Not the file's fault: it is taken again (by a new process)."""

    code = "ingest.judge_start"
    transient = True


class _Process(Child):
    def __init__(self, memory_bytes: int) -> None:
        super().__init__(__name__, str(memory_bytes))

    def ask(self, job: Job, timeout: float) -> Verdict | _Failure:
        try:  # starting (loading Python and the engine) is not the file's time
            if not self.wait_ready(_START_SECONDS):
                raise JudgeStart("the process that reads delivered files did not start in time")
        except Died as exc:
            raise JudgeStart(f"the process that reads delivered files {exc.how} as it started") from None
        self.send(job)
        if not self.pipe.poll(timeout):
            self.stop()
            raise JudgeCrashed(
                f"reading the file took longer than {timeout:g} s",
                code="ingest.judge_timeout",
                details={"seconds": timeout},
            )
        try:
            answer: Verdict | _Failure = self.receive()
        except Died as exc:
            raise JudgeCrashed(f"the process reading the file {exc.how}") from None
        return answer


class Judges:
    """Judge processes, each judging one file at a time: an idle one is taken for each file (a
    new one started when none is idle) and given back after it, so they outlive the threads and
    services that use them. A process that died or ran out of memory is never given back."""

    def __init__(
        self, memory_mb: int = 2048, timeout_seconds: float = 900.0, limits: Limits | None = None
    ) -> None:
        self.memory_bytes = memory_mb * 1024**2
        self.timeout = timeout_seconds
        self.limits = limits or Limits()
        self._idle: list[_Process] = []
        self._busy: set[_Process] = set()
        self._lock = threading.Lock()
        atexit.register(self.close)

    def judge(self, job: Job) -> Verdict:
        """The file's verdict, judged in a judge process.

        Raises:
            Rejection: the first check the file fails.
            LakegateError: what reading it raised (``ingest.judge_memory``, transient: the
                process ran out of memory); ``JudgeCrashed`` when the process died or timed out.
        """
        process = self._take()
        keep = False
        try:
            answer = process.ask(job, self.timeout)
            # out of memory: its memory goes back to the machine, and a new process retries
            keep = isinstance(answer, Verdict) or answer.code != "ingest.judge_memory"
        finally:
            self._give_back(process, keep)
        if isinstance(answer, Verdict):
            return answer
        if answer.kind == "rejection":
            raise Rejection(answer.message, code=answer.code, hint=answer.hint, details=answer.details)
        if answer.kind == "error":
            raise LakegateError(
                answer.message, code=answer.code, hint=answer.hint, transient=answer.transient,
                details=answer.details,
            )  # fmt: skip
        raise RuntimeError(answer.message)

    def warm_up(self) -> None:
        """Start a process and let it read a small file, so the first delivery is fast."""
        with tempfile.NamedTemporaryFile("wb", suffix=".csv") as sample:
            sample.write(b"a,b\n1,x\n")
            sample.flush()
            from lakegate.crawler.detect import detect
            from lakegate.ingest.routing import default_route

            route = default_route("landing/warm/up/sample.csv")
            detected = detect(b"a,b\n1,x\n", b"", 8)
            self.judge(Job(route, sample.name, route.filename, 8, detected, None, "evolve", False, ""))

    def processes(self) -> list[_Process]:
        with self._lock:
            return [*self._idle, *self._busy]

    def _take(self) -> _Process:
        with self._lock:
            while self._idle:
                process = self._idle.pop()
                if process.alive():
                    self._busy.add(process)
                    return process
                process.stop()
        process = _Process(self.memory_bytes)
        with self._lock:
            self._busy.add(process)
        return process

    def _give_back(self, process: _Process, keep: bool) -> None:
        with self._lock:
            self._busy.discard(process)
            if keep and process.alive():
                self._idle.append(process)
                return
        process.stop()

    def close(self) -> None:
        """Stop the idle processes (busy ones stop when their file is done)."""
        with self._lock:
            processes, self._idle = self._idle, []
        for process in processes:
            process.stop(gently=True)


_shared: Judges | None = None
_shared_lock = threading.Lock()


def shared() -> Judges:
    """This process's judges (settings: ``configure``)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Judges()
        return _shared


def from_settings(ingest: Any) -> Judges:
    """This process's judges for the ``ingest`` settings' memory, time and file limits (the
    same settings share their processes)."""
    memory, timeout = ingest.judge_memory_mb, ingest.judge_timeout_seconds
    limits = Limits(
        max_decompressed_bytes=ingest.max_decompressed_mb * 1024**2,
        max_decompression_ratio=ingest.max_decompression_ratio,
        max_line_bytes=ingest.max_line_bytes,
        max_columns=ingest.max_columns,
        max_nesting=ingest.max_nesting,
    )
    with _shared_lock:
        key = (memory, timeout, limits)
        if key not in _by_settings:
            _by_settings[key] = Judges(memory, timeout, limits)
        return _by_settings[key]


_by_settings: dict[tuple[int, float, Limits], Judges] = {}

if __name__ == "__main__":
    # Run as the importable module, so what it sends is pickled under its real name.
    from lakegate.ingest.judge_worker import main as _main

    _main()
