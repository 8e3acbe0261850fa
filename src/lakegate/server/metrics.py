"""Prometheus metrics of a lakegate process, in the text exposition format.

lakegate_ingest_objects_total{outcome="accepted"}   objects by final outcome
lakegate_queries_total{state="SUCCEEDED"}           queries by final state
lakegate_query_duration_seconds_bucket{le="..."}    how long queries took (a histogram)
lakegate_queries_running                            queries running now
"""

from __future__ import annotations

import threading
from collections.abc import Callable

BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class Metrics:
    def __init__(self, ingest: Callable[[], dict[str, int]] | None = None) -> None:
        self._ingest = ingest or dict
        self._lock = threading.Lock()
        self._queries: dict[str, int] = {}
        self._buckets = [0] * len(BUCKETS)
        self._count = 0
        self._sum = 0.0
        self.running = 0

    def started(self) -> None:
        with self._lock:
            self.running += 1

    def finished(self, state: str, seconds: float) -> None:
        with self._lock:
            self.running -= 1
            self._queries[state] = self._queries.get(state, 0) + 1
            self._count += 1
            self._sum += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self._buckets[i] += 1

    def text(self) -> str:
        lines = [
            "# HELP lakegate_ingest_objects_total Delivered objects by final outcome.",
            "# TYPE lakegate_ingest_objects_total counter",
        ]
        for outcome, n in sorted(self._ingest().items()):
            lines.append(f'lakegate_ingest_objects_total{{outcome="{outcome}"}} {n}')
        with self._lock:
            lines += [
                "# HELP lakegate_queries_total Queries by final state.",
                "# TYPE lakegate_queries_total counter",
            ]
            for state, n in sorted(self._queries.items()):
                lines.append(f'lakegate_queries_total{{state="{state}"}} {n}')
            lines += [
                "# HELP lakegate_query_duration_seconds How long queries took.",
                "# TYPE lakegate_query_duration_seconds histogram",
            ]
            for bound, n in zip(BUCKETS, self._buckets, strict=True):
                lines.append(f'lakegate_query_duration_seconds_bucket{{le="{bound:g}"}} {n}')
            lines.append(f'lakegate_query_duration_seconds_bucket{{le="+Inf"}} {self._count}')
            lines.append(f"lakegate_query_duration_seconds_sum {self._sum:.6f}")
            lines.append(f"lakegate_query_duration_seconds_count {self._count}")
            lines += [
                "# HELP lakegate_queries_running Queries running now.",
                "# TYPE lakegate_queries_running gauge",
                f"lakegate_queries_running {self.running}",
            ]
        return "\n".join(lines) + "\n"
