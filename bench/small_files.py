"""A flood of small files: `count(*)` over N tiny files of one partition, read one by one (each
file's own acceleration copy) and then through the compacted copy the accelerator makes of them.
Prints the median of each, in the same process, and their ratio.
Usage: python bench/small_files.py [files]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import median, print_table


def main(files: int) -> None:
    from lakegate.app import open_app
    from lakegate.catalog import acceleration
    from lakegate.ingest import accelerate
    from lakegate.ingest.accelerate import Accelerator
    from lakegate.ingest.pipeline import Pipeline
    from lakegate.query.engines.duck_engine import QueryEngine

    app = open_app(Path(tempfile.mkdtemp(prefix="lakegate-small-")), create=True)
    pipeline = Pipeline(app.catalog, app.store)
    started = time.monotonic()
    for i in range(files):
        key = f"landing/s/events/dt=2026-01-01/f{i:05d}.csv"
        app.store.write(key, f"id,v\n{i},{i}\n{i + files},1\n".encode())
        pipeline.process(key)
    taken = time.monotonic() - started
    accelerator = Accelerator(app.catalog, app.store, lambda: app.settings)
    compact, accelerate.COMPACT_AT = accelerate.COMPACT_AT, 10**9  # copies of their own first
    accelerator.run_pending()
    accelerate.COMPACT_AT = compact

    def timed() -> float:
        engine = QueryEngine(app.catalog, app.store, app.settings.query)  # no instance kept between runs
        try:
            t = time.perf_counter()
            assert engine.execute("SELECT count(*) FROM s.events").table.column(0)[0].as_py() == 2 * files
            return (time.perf_counter() - t) * 1000
        finally:
            engine.close()

    one_by_one = median([timed() for _ in range(5)])
    started = time.monotonic()
    done = accelerator.compact()
    compacting = time.monotonic() - started
    assert [d.outcome for d in done] == ["compacted"], done
    assert acceleration.progress(app.catalog)["accelerated"] == files
    compacted = median([timed() for _ in range(5)])
    each = taken / files * 1000
    print(f"{files} files taken in {taken:.1f} s ({each:.0f} ms each); compacted in {compacting:.1f} s")
    print_table(
        ["count(*) over", "median ms"],
        [[f"{files} copies, one per file", f"{one_by_one:.0f}"], ["one compacted copy", f"{compacted:.0f}"]],
    )
    print(f"ratio compacted / one by one: {compacted / one_by_one:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
